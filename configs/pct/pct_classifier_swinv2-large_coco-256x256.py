# PCT stage 2 (token classifier), PCT-Large (SwinV2 embed 192); schedule as PCT-Base.
_base_ = ['./pct_classifier_swinv2-base_coco-256x256.py', './_base_/pct_swinv2_sizes.py']

# Stage-1 result of pct_tokenizer_swinv2-large_coco-256x256.py (or PCT's converted tokenizer).
pct_tokenizer_checkpoint = 'work_dirs/pct_tokenizer_swinv2-large_coco-256x256/epoch_50.pth'

model = dict(
    backbone=_base_.pct_large_backbone,
    head=dict(_base_.pct_large_head,
              tokenizer=dict(init_cfg=dict(checkpoint=pct_tokenizer_checkpoint))))
