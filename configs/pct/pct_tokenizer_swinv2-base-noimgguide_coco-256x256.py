# PCT stage 1 without image guidance (g = 0, PCT's "woimgguide"): the tokenizer sees only the
# keypoints, so no backbone is built. Schedule as PCT-Base.
_base_ = ['./pct_tokenizer_swinv2-base_coco-256x256.py']

model = dict(backbone=None, head=dict(tokenizer=dict(guide_ratio=0.0)))
