# PCT stage 2 (token classifier), PCT-Large (SwinV2 embed 192); schedule as PCT-Base.
_base_ = ['./pct_classifier_swinv2-base_coco-256x256.py']

# User-provided: PCT's heatmap-trained SwinV2-Large (MMPose 0.x checkpoint with `backbone.*` keys).
swinv2_heatmap_checkpoint = 'weights/heatmap/swin_large.pth'
# Stage-1 result of pct_tokenizer_swinv2-large_coco-256x256.py (or PCT's converted tokenizer).
pct_tokenizer_checkpoint = 'work_dirs/pct_tokenizer_swinv2-large_coco-256x256/epoch_50.pth'

model = dict(
    backbone=dict(
        embed_dims=192,
        depths=[2, 2, 18, 2],
        num_heads=[6, 12, 24, 48],
        drop_path_rate=0.5,
        init_cfg=dict(checkpoint=swinv2_heatmap_checkpoint)),
    head=dict(
        in_channels=1536,
        tokenizer=dict(init_cfg=dict(checkpoint=pct_tokenizer_checkpoint))))
