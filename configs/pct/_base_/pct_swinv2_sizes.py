# PCT-Large and PCT-Huge: how they differ from PCT-Base (./pct_swinv2-base_model.py), applied by
# configs/pct/pct_*_swinv2-{large,huge}_*.py on top of the PCT-Base stage configs. The head reads
# 8 x embed_dims channels. Checkpoints are user-provided: PCT's heatmap-trained SwinV2 of that
# size (MMPose 0.x checkpoint with `backbone.*` keys).
pct_large_backbone = dict(
    embed_dims=192,
    num_heads=[6, 12, 24, 48],
    drop_path_rate=0.5,
    init_cfg=dict(checkpoint='weights/heatmap/swin_large.pth'))
pct_large_head = dict(in_channels=8 * 192)

pct_huge_backbone = dict(
    embed_dims=256,
    depths=[2, 2, 42, 2],
    num_heads=[8, 16, 32, 64],
    drop_path_rate=0.5,
    init_cfg=dict(checkpoint='weights/heatmap/swin_huge.pth'))
pct_huge_head = dict(in_channels=8 * 256)
