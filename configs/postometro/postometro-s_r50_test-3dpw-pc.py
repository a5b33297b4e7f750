# Evaluate postometro-s_r50 on 3DPW-PC (SPEC §4.5):
#   mim test postometro_mm postometro-s_r50_test-3dpw-pc.py --checkpoint CKPT
_base_ = [
    '../_base_/models/postometro_r50.py',
    '../_base_/datasets/mesh_mixed_train.py',
    '../_base_/datasets/pw3d_pc.py',
]
# MeshMetric's ground-truth body model (paths from configs/_base_/body_model_paths.py).
val_evaluator = dict(
    body_model=dict(type='GenderedSMPL', model_path={{_base_.smpl_model_dir}}),
    joint_regressor={{_base_.j_regressor_h36m}})
test_evaluator = val_evaluator
