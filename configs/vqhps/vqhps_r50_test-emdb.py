# Evaluate vqhps_r50 on EMDB 1 (the test set of configs/_base_/datasets/emdb_test.py, at 224 px;
# paper, protocol B: PVE 112.9 / MPJPE 99.9 / PA-MPJPE 65.2 mm):
#   mim test postometro_mm vqhps_r50_test-emdb.py --checkpoint CKPT
_base_ = ['./vqhps_r50_mixed-224x224.py']

val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='EMDBDataset',
        data_root='data/EMDB/',
        ann_file='annotations/emdb_emdb1.npz',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=_base_.val_dataloader.dataset.pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(prefix='emdb')
test_evaluator = val_evaluator
