# PCT stage 1 (tokenizer) with image guidance g = 0.5, PCT-Huge (SwinV2 embed 256); schedule as
# PCT-Base.
_base_ = ['./pct_tokenizer_swinv2-base_coco-256x256.py', './_base_/pct_swinv2_sizes.py']

model = dict(backbone=_base_.pct_huge_backbone, head=_base_.pct_huge_head)
