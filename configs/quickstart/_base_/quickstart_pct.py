# PCT shrunk for the quickstart, shared by both PCT stages and by PostoMETRO's frozen pose
# tokenizer (so the three always agree): 34 tokens from a 256-entry codebook of 64-d codes, a
# tokenizer without image guidance (configs/pct/*-noimgguide*: it reads keypoints only) and a
# small classifier over the map of a frozen heatmap-trained backbone, as in PCT.
# PCT-Base for comparison: SwinV2-B (1024 x 8 x 8 features of a 256x256 crop), 2048 codes of
# 512-d.
#
# The backbone is the quickstart's ResNet (./quickstart_resnet.py, 128 x 8 x 8 features at
# stride 16), loaded from the same heatmap pretraining as the mesh models' and kept frozen,
# instead of a shrunk SwinV2 pretrained on its own: on two CPU cores that second pretraining
# cost as much as the first and gave PCT a worse 2D pose. Measured on the full-mode world, the
# classifier's PCK@0.05 on the test split with the 400-iteration tokenizer of that time: 38 %
# on a 4-stage SwinV2 at stride 32, 57 % on a 3-stage one at stride 16 (without mirror
# augmentation), 68 % on this ResNet after 400 pretraining iterations; with the quickstart's
# 800-iteration pretraining and tokenizer, 88 %. PCT's SwinV2
# (postometro_mm/models/backbones/pct_swinv2.py) is what the real configs use.
_base_ = ['./quickstart_resnet.py']

pct_tiny_backbone = dict(type='ResNet', **_base_.quickstart_resnet, out_indices=(3, ),
                         frozen_stages=4, norm_eval=True)
pct_tiny_tokenizer = dict(
    guide_ratio=0.0, num_tokens=34, num_codes=256, code_dims=64, enc_hidden_dims=64,
    enc_hidden_inter_dims=64, enc_token_inter_dims=32, enc_num_blocks=2, dec_hidden_dims=32,
    dec_hidden_inter_dims=64, dec_token_inter_dims=32, dec_num_blocks=1)
pct_tiny_classifier = dict(
    conv_channels=64, conv_num_blocks=1, hidden_dims=32, hidden_inter_dims=64,
    token_inter_dims=32, num_blocks=2, dropout=0.0, feat_stride=16)
# PCTHead arguments: the backbone's output channels and the crop size.
pct_tiny_head = dict(in_channels=_base_.quickstart_resnet_channels, input_size=(128, 128),
                     tokenizer=pct_tiny_tokenizer)
