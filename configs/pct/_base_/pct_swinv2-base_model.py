# PCT-Base architecture (Geng et al., CVPR 2023), written once. PCT's training stages
# (./pct_swinv2-base_coco_training.py) and PostoMETRO's frozen pose tokenizer
# (configs/_base_/models/pct_swinv2-base_pose-tokenizer.py) build their models from these
# variables; PCT-Large/-Huge state only how they differ (./pct_swinv2_sizes.py).
# Training-only settings (stochastic depth, checkpoints, losses, flip test) live in the configs
# that use them.

# SwinV2-B as PCT uses it: 1024 x 8 x 8 features of a 256 x 256 crop, frozen (PCT keeps its
# heatmap-trained backbone frozen in both stages).
pct_base_backbone = dict(
    type='PCTSwinV2',
    img_size=256,
    embed_dims=128,
    depths=[2, 2, 18, 2],
    num_heads=[4, 8, 16, 32],
    window_size=[16, 16, 16, 8],
    pretrained_window_size=[12, 12, 12, 6],
    shift=[True, True, False, False],
    out_indices=(3, ),
    frozen_stages=4)
# Stage 1: VQ-VAE over COCO-17 poses, 34 tokens from a 2048 x 512 EMA codebook, image-guided
# (g = 0.5; the "noimgguide" variants set 0).
pct_base_tokenizer = dict(
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
    ema_decay=0.9)
# Stage 2: token classifier over the backbone map (PCTHead sets stage='classifier' with it).
pct_base_classifier = dict(
    conv_channels=256,
    conv_num_blocks=2,
    hidden_dims=64,
    hidden_inter_dims=256,
    token_inter_dims=64,
    num_blocks=4,
    dropout=0.0)
# PCTHead without its stage (and, for stage 2, without the classifier).
pct_base_head = dict(
    type='PCTHead',
    in_channels=1024,
    input_size=(256, 256),
    num_keypoints=17,
    tokenizer=pct_base_tokenizer)
