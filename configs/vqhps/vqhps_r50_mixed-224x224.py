# VQ-HPS with ResNet-50 backbones on 224x224 crops, trained on the plugin's mixed 3D/2D set
# (configs/_base_/datasets/mesh_mixed_train.py; the reference trains on BEDLAM's CLIFF npz of
# COCO, MPII, H36M and MPI-INF-3DHP) with the plugin's augmentation (scale, rotation, flip,
# pixel noise: the reference's geometric part; its blur / colour / occlusion augmentations are
# not reproduced), validated and tested on 3DPW-TEST with MeshMetric (protocol B is VQ-HPS's).
# Paper (protocol B, no 3DPW training; backbone not stated): 3DPW PVE 84.8 / MPJPE 71.1 /
# PA-MPJPE 45.2; EMDB 112.9 / 99.9 / 65.2.
#   mim train postometro_mm vqhps_r50_mixed-224x224.py --gpus 4 --launcher pytorch
#   mim test postometro_mm vqhps_r50_mixed-224x224.py --checkpoint CKPT
_base_ = [
    '../_base_/models/vqhps_r50.py',
    '../_base_/datasets/mesh_mixed_train.py',
    '../_base_/datasets/pw3d_test.py',
]
input_size = (224, 224)
train_dataloader = dict(
    batch_size=32, sampler=dict(batch_size=32),
    dataset=dict(pipeline=[
        dict(step, input_size=input_size) if step['type'] == 'MeshTopdownAffine' else step
        for step in _base_.train_pipeline]))
_test_pipeline = [
    dict(step, input_size=input_size) if step['type'] == 'MeshTopdownAffine' else step
    for step in _base_.test_pipeline]
val_dataloader = dict(dataset=dict(pipeline=_test_pipeline))
test_dataloader = val_dataloader
default_hooks = dict(
    checkpoint=dict(save_best='3dpw/B/PA-MPJPE', rule='less', max_keep_ckpts=3))
# MeshMetric's ground-truth body model (paths from configs/_base_/body_model_paths.py).
val_evaluator = dict(
    body_model=dict(type='GenderedSMPL', model_path={{_base_.smpl_model_dir}}),
    joint_regressor={{_base_.j_regressor_h36m}})
test_evaluator = val_evaluator
