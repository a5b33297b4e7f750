# Quickstart PCT stage 2 (token classifier): the unguided PCT-Base classifier config
# (configs/pct/pct_classifier_swinv2-base-noimgguide_coco-256x256.py) shrunk to
# configs/quickstart/_base_/quickstart_pct.py, on the synthetic world. As in PCT, the backbone
# starts from a heatmap-trained checkpoint (the quickstart's ResNet of
# td-hm_r18-tiny_quickstart-128x128.py, the one the mesh models start from) and stays frozen,
# and the stage-1 tokenizer is loaded and frozen; only the classifier trains.
# Validation: the 2D pose decoded from the predicted tokens on the test split.
_base_ = [
    '../pct/pct_classifier_swinv2-base-noimgguide_coco-256x256.py',
    './_base_/quickstart_world.py',
    './_base_/quickstart_pct.py',
]
# The checkpoints of the earlier stages; tools/quickstart.py passes the ones it trained with
#   --cfg-options model.backbone.init_cfg.checkpoint=...
#                 model.head.tokenizer.init_cfg.checkpoint=...
resnet_heatmap_checkpoint = (_base_.quickstart_dir +
                             '/td-hm_r18-tiny_quickstart-128x128/iter_800.pth')
pct_tokenizer_checkpoint = (_base_.quickstart_dir +
                            '/pct_tokenizer_quickstart-128x128/iter_800.pth')

model = dict(
    backbone=dict(_delete_=True, **_base_.pct_tiny_backbone,
                  init_cfg=dict(type='Pretrained', checkpoint=resnet_heatmap_checkpoint,
                                prefix='backbone.')),
    head=dict(
        in_channels=_base_.pct_tiny_head.in_channels,
        input_size=_base_.pct_tiny_head.input_size,
        tokenizer=dict(_base_.pct_tiny_tokenizer,
                       init_cfg=dict(checkpoint=pct_tokenizer_checkpoint)),
        classifier=_base_.pct_tiny_classifier),
    test_cfg=dict(flip_test=False))

max_iters = 300
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
# PCT's recipe (AdamW lr 8e-4, wd 0.05, warm-up then cosine) at the quickstart's length.
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
