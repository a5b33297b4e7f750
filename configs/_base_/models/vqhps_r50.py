# VQ-HPS (ECCV 2024) with ResNet-50 backbones: one for the 54 mesh tokens (2048x7x7 at 224 px),
# one for the global rotation and camera; a 1 + 1 layer pre-norm transformer (512 wide, 8 heads,
# FFN 1024, dropout 0.2); the causal token classifier over the frozen Mesh-VQ-VAE `medium`'s
# 512 codes. Inherits the runtime + schedule and the body-model paths (a final config lists this
# model base beside dataset bases only).
_base_ = [
    '../body_model_paths.py',
    '../schedules/vqhps_200e.py',
    './mesh_vqvae_medium.py',
]

# User-provided: ImageNet ResNet-50 weights (the reference starts from torchvision's
# ResNet50_Weights.DEFAULT; torchvision's state dict uses mmpose's ResNet names) and a trained
# Mesh-VQ-VAE `medium` (configs/mesh_vqvae/, or the released one converted by
# tools/model_converters/mesh_vqvae_to_plugin.py). A VQ-HPS checkpoint converted by
# tools/model_converters/vqhps_to_plugin.py holds all of them: then these files are not read.
resnet50_imagenet_checkpoint = 'weights/backbones/resnet50_imagenet.pth'
mesh_vqvae_checkpoint = 'weights/mesh_vqvae/mesh_vqvae_medium.pth'

_resnet50 = dict(type='ResNet', depth=50, out_indices=(3, ),
                 init_cfg=dict(type='Pretrained', checkpoint=resnet50_imagenet_checkpoint))

model = dict(
    _delete_=True,
    type='VQHPSEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=_resnet50,
    rotation_backbone=_resnet50,
    head=dict(
        type='VQHPSHead',
        in_channels=2048,
        rot_in_channels=2048,
        mesh_tokenizer=dict(_base_.model,
                            init_cfg=dict(type='Pretrained', checkpoint=mesh_vqvae_checkpoint)),
        joint_regressor={{_base_.j_regressor_h36m}},
        body_model=dict(type='GenderedSMPL', model_path={{_base_.smpl_model_dir}}),
        embed_dims=512,
        num_heads=8,
        feedforward_channels=1024,
        num_encoder_layers=1,
        num_decoder_layers=1,
        dropout=0.2,
        autoregressive=True,
        loss_tokens_weight=1.0,
        loss_rotation_weight=1.0,
        loss_joints_2d=dict(type='Joint2DL1Loss', loss_weight=1.0)),
    test_cfg=dict())

visualizer = dict(faces={{_base_.smpl_model_dir}})
