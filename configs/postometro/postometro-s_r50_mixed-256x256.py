# PostoMETRO-S, ResNet-50 + PCT-Base pose tokens, trained on the mixed 3D/2D set (H36M, COCO,
# MuCo-3DHP, UP-3D, MPII; configs/_base_/datasets/mesh_mixed_train.py), validated and tested on
# 3DPW-TEST; fine-tune with postometro-s_r50_ft-3dpw-256x256.py.
# Paper (fine-tuned on 3DPW): MPVPE 78.0 / MPJPE 68.4 / PA-MPJPE 40.8 mm.
_base_ = [
    '../_base_/models/postometro_r50.py',
    '../_base_/datasets/mesh_mixed_train.py',
    '../_base_/datasets/pw3d_test.py',
]
# 4 GPUs x 32 crops = the paper's batch of 128.
train_dataloader = dict(batch_size=32, sampler=dict(batch_size=32))
default_hooks = dict(
    checkpoint=dict(save_best='3dpw/PA-MPJPE', rule='less', max_keep_ckpts=3))
# MeshMetric's ground-truth body model (paths from configs/_base_/body_model_paths.py).
val_evaluator = dict(
    body_model=dict(type='GenderedSMPL', model_path={{_base_.smpl_model_dir}}),
    joint_regressor={{_base_.j_regressor_h36m}})
test_evaluator = val_evaluator
