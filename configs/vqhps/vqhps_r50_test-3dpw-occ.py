# Evaluate vqhps_r50 on 3DPW-OCC (configs/_base_/datasets/pw3d_occ.py, at 224 px):
#   mim test postometro_mm vqhps_r50_test-3dpw-occ.py --checkpoint CKPT
_base_ = ['./vqhps_r50_mixed-224x224.py']

val_dataloader = dict(dataset=dict(ann_file='annotations/pw3d_occ.npz'))
test_dataloader = val_dataloader
val_evaluator = dict(prefix='3dpw-occ')
test_evaluator = val_evaluator
