# PCT stage 2 for PCT-Base with an unguided (g = 0) tokenizer (PCT's "woimgguide"; the PCT inside
# PostoMETRO-M). Schedule as PCT-Base.
_base_ = ['./pct_classifier_swinv2-base_coco-256x256.py']

# Stage-1 result of pct_tokenizer_swinv2-base-noimgguide_coco-256x256.py.
pct_tokenizer_checkpoint = \
    'work_dirs/pct_tokenizer_swinv2-base-noimgguide_coco-256x256/epoch_50.pth'

model = dict(
    head=dict(
        tokenizer=dict(guide_ratio=0.0, init_cfg=dict(checkpoint=pct_tokenizer_checkpoint))))
