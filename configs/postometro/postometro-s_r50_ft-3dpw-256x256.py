# Fine-tune postometro-s_r50 on 3DPW-train (paper: lr 2e-5, 30 epochs) from the mixed-data model; test on
# 3DPW-TEST.
_base_ = [
    '../_base_/models/postometro_r50.py',
    '../_base_/datasets/pw3d_train.py',
    '../_base_/datasets/pw3d_test.py',
]
load_from = 'work_dirs/postometro-s_r50_mixed-256x256/best_3dpw_PA-MPJPE.pth'
optim_wrapper = dict(optimizer=dict(lr=2e-5))
train_dataloader = dict(batch_size=32)
default_hooks = dict(
    checkpoint=dict(save_best='3dpw/PA-MPJPE', rule='less', max_keep_ckpts=3))
# MeshMetric's ground-truth body model (paths from configs/_base_/body_model_paths.py).
val_evaluator = dict(
    body_model=dict(type='GenderedSMPL', model_path={{_base_.smpl_model_dir}}),
    joint_regressor={{_base_.j_regressor_h36m}})
test_evaluator = val_evaluator
