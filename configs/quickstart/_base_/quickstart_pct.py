# PCT shrunk for the quickstart, shared by both PCT stages and by PostoMETRO's frozen pose
# tokenizer (so the three always agree): SwinV2 with embed 32 and one block per stage at 128x128
# (256 x 4 x 4 features), 34 tokens from a 256-entry codebook of 64-d codes, a tokenizer without
# image guidance (configs/pct/*-noimgguide*: it reads keypoints only, so stage 2 may train the
# backbone without moving the stage-1 token targets) and a small classifier.
# PCT-Base for comparison: embed 128, depths [2, 2, 18, 2], 2048 codes of 512-d, 256x256 input.
pct_tiny_backbone = dict(
    img_size=128,
    embed_dims=32,
    depths=[1, 1, 1, 1],
    num_heads=[1, 2, 4, 8],
    window_size=[8, 8, 8, 4],
    pretrained_window_size=[8, 8, 8, 4],
    drop_path_rate=0.0)
pct_tiny_tokenizer = dict(
    guide_ratio=0.0, num_tokens=34, num_codes=256, code_dims=64, enc_hidden_dims=64,
    enc_hidden_inter_dims=64, enc_token_inter_dims=32, enc_num_blocks=2, dec_hidden_dims=32,
    dec_hidden_inter_dims=64, dec_token_inter_dims=32, dec_num_blocks=1)
pct_tiny_classifier = dict(
    conv_channels=64, conv_num_blocks=1, hidden_dims=32, hidden_inter_dims=64,
    token_inter_dims=32, num_blocks=2, dropout=0.0)
# PCTHead arguments: the backbone's output channels (8 x embed_dims) and the crop size.
pct_tiny_head = dict(in_channels=256, input_size=(128, 128), tokenizer=pct_tiny_tokenizer)
