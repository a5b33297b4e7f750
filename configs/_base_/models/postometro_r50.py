# PostoMETRO with a ResNet-50 image backbone (SimpleBaselines-style, COCO-pretrained; 2048x8x8
# features for a 256 crop) and PCT-Base pose tokens. Size S: 1 encoder + 1 decoder layer per
# transformer; M/L configs set num_encoder_layers/num_decoder_layers to 2/3.
# Inherits the runtime + schedule and the body-model paths here (mmengine forbids a key in two
# sibling bases, so a final config lists this model base beside dataset bases only).
_base_ = [
    '../body_model_paths.py',
    '../schedules/postometro_30e.py',
    './pct_swinv2-base_pose-tokenizer.py',
]

# User-provided: mmpose's COCO-trained SimpleBaselines ResNet-50 (td-hm_res50_8xb64-210e_coco-256x192),
# whose `backbone.*` weights initialise the image backbone.
resnet50_coco_checkpoint = 'weights/backbones/td-hm_res50_8xb64-210e_coco-256x192.pth'

model = dict(
    type='MeshEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        init_cfg=dict(type='Pretrained', checkpoint=resnet50_coco_checkpoint,
                      prefix='backbone.')),
    pose_tokenizer={{_base_.pose_tokenizer}},
    pose_token_source='pct',
    neck=dict(
        type='PoseTokenModulator',
        in_channels=512,
        num_tokens=34,
        hidden_dims=512,
        hidden_inter_dims=512,
        token_inter_dims=64,
        num_blocks=4,
        out_channels=512,
        modulator='mixer'),
    head=dict(
        type='PostoMETROHead',
        in_channels=2048,
        mesh_sampler=dict(type='MeshSampler', filename={{_base_.mesh_downsampling}},
                          allow_pickle=True),
        joint_regressor={{_base_.j_regressor_h36m}},
        body_model=dict(type='GenderedSMPL', model_path={{_base_.smpl_model_dir}}),
        # FastMETRO's normal loss uses smpl_1723_faces.npy (3451 faces; METRO/FastMETRO data);
        # None takes the sampler's level-1 faces (3442 of them).
        mid_faces=None,
        embed_dims=(512, 128),
        feedforward_channels=(2048, 512),
        num_heads=8,
        num_encoder_layers=1,
        num_decoder_layers=1,
        dropout=0.1,
        with_pose_tokens=True,
        duplicate_pose_tokens=True,
        loss_vertices=dict(type='MeshVertexL1Loss', level_weights=(0.25, 0.5, 0.25),
                           loss_weight=1000.0),
        loss_joints_3d=dict(type='Joint3DL1Loss', loss_weight=1000.0),
        loss_joints_2d=dict(type='Joint2DL1Loss', loss_weight=100.0),
        loss_edge=dict(type='MeshEdgeLengthLoss', gt_weight=5.0, self_weight=1e-4,
                       loss_weight=100.0),
        loss_normal=dict(type='MeshNormalLoss', loss_weight=10.0)),
    test_cfg=dict())

visualizer = dict(faces={{_base_.smpl_model_dir}})
