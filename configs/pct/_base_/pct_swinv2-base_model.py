# PCT-Base (Geng et al., CVPR 2023): SwinV2-B backbone + PCT head, stage-neutral parts.
# Stage configs set head.stage (and head.classifier for stage 2) and the backbone checkpoint.
model = dict(
    type='PCTPoseEstimator',
    frozen=False,  # training configs; PostoMETRO uses the default frozen=True
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='PCTSwinV2',
        img_size=256,
        embed_dims=128,
        depths=[2, 2, 18, 2],
        num_heads=[4, 8, 16, 32],
        window_size=[16, 16, 16, 8],
        pretrained_window_size=[12, 12, 12, 6],
        shift=[True, True, False, False],
        drop_path_rate=0.3,
        out_indices=(3, ),
        frozen_stages=4,  # PCT keeps its heatmap-trained SwinV2 frozen in both stages
    ),
    head=dict(
        type='PCTHead',
        in_channels=1024,
        input_size=(256, 256),
        num_keypoints=17,
        tokenizer=dict(
            num_tokens=34,
            num_codes=2048,
            code_dims=512,
            guide_ratio=0.5,
            drop_rate=0.2,
            enc_hidden_dims=512,
            enc_hidden_inter_dims=512,
            enc_token_inter_dims=64,
            enc_num_blocks=4,
            dec_hidden_dims=32,
            dec_hidden_inter_dims=64,
            dec_token_inter_dims=64,
            dec_num_blocks=1,
            ema_decay=0.9),
        keypoint_loss_weight=1.0,
        latent_loss_weight=15.0,
        token_loss_weight=1.0,
        smooth_l1_beta=0.05),
    test_cfg=dict(flip_test=True))
