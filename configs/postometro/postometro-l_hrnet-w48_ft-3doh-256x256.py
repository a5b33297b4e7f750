# Fine-tune postometro-l_hrnet-w48 on 3DOH50K-train (paper: lr 1e-4, 30 epochs) from the mixed-data model; test on
# 3DOH-test.
_base_ = [
    '../_base_/models/postometro_hrnet-w48.py',
    '../_base_/datasets/oh3d_train.py',
    '../_base_/datasets/oh3d_test.py',
]
model = dict(head=dict(num_encoder_layers=3, num_decoder_layers=3))
load_from = 'work_dirs/postometro-l_hrnet-w48_mixed-256x256/best_3dpw_PA-MPJPE.pth'
train_dataloader = dict(batch_size=24)
default_hooks = dict(
    checkpoint=dict(save_best='3doh/PA-MPJPE', rule='less', max_keep_ckpts=3))
# MeshMetric's ground-truth body model (paths from configs/_base_/body_model_paths.py).
val_evaluator = dict(
    body_model=dict(type='GenderedSMPL', model_path={{_base_.smpl_model_dir}}),
    joint_regressor={{_base_.j_regressor_h36m}})
test_evaluator = val_evaluator
