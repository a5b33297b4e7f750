# PCT stage 1 (tokenizer) with image guidance g = 0.5, PCT-Large (SwinV2 embed 192); schedule as
# PCT-Base.
_base_ = ['./pct_tokenizer_swinv2-base_coco-256x256.py', './_base_/pct_swinv2_sizes.py']

model = dict(backbone=_base_.pct_large_backbone, head=_base_.pct_large_head)
