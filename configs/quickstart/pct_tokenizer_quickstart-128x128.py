# Quickstart PCT stage 1 (tokenizer, a VQ-VAE over COCO-17 poses): the unguided PCT-Base tokenizer
# config (configs/pct/pct_tokenizer_swinv2-base-noimgguide_coco-256x256.py) shrunk to
# configs/quickstart/_base_/quickstart_pct.py and trained for 800 iterations on the synthetic
# world's training split instead of COCO (its reconstructions of the test poses, full-mode
# world: PCK@0.05 70 % after 400 iterations, 96 % after 800; the classifier's accuracy is
# bounded by them). Its validation reconstructs the test split's
# ground-truth 2D poses through the codebook (PCK@0.05 of the box size, and pixel error).
_base_ = [
    '../pct/pct_tokenizer_swinv2-base-noimgguide_coco-256x256.py',
    './_base_/quickstart_world.py',
    './_base_/quickstart_pct.py',
]

model = dict(head=_base_.pct_tiny_head, test_cfg=dict(flip_test=False))

max_iters = 800
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
# PCT's recipe (AdamW lr 1e-2, wd 0.15, warm-up then cosine) at the quickstart's length; the
# cosine ends at train_cfg.max_iters (mmengine's default `end`).
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-5, by_epoch=False, begin=0),
]
auto_scale_lr = dict(enable=False)

train_dataloader = dict(
    _delete_=True, batch_size=32, **_base_.world_train_loader,
    dataset=dict(_base_.world_train, pipeline=_base_.world_pose_train_pipeline))
val_dataloader = dict(
    _delete_=True, **_base_.world_test_loader,
    dataset=dict(_base_.world_test, pipeline=_base_.world_pose_test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'), dict(type='EPE')]
test_evaluator = val_evaluator

default_hooks = _base_.world_hooks
log_processor = _base_.world_log_processor
randomness = _base_.world_randomness
