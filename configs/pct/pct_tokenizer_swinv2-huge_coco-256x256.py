# PCT stage 1 (tokenizer) with image guidance g = 0.5, PCT-Huge (SwinV2 embed 256); schedule as
# PCT-Base.
_base_ = ['./pct_tokenizer_swinv2-base_coco-256x256.py']

# User-provided: PCT's heatmap-trained SwinV2-Huge (MMPose 0.x checkpoint with `backbone.*` keys).
swinv2_heatmap_checkpoint = 'weights/heatmap/swin_huge.pth'

model = dict(
    backbone=dict(
        embed_dims=256,
        depths=[2, 2, 42, 2],
        num_heads=[8, 16, 32, 64],
        drop_path_rate=0.5,
        init_cfg=dict(checkpoint=swinv2_heatmap_checkpoint)),
    head=dict(in_channels=2048))
