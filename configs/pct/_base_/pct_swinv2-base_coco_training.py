# What PCT's two training stages share for PCT-Base on COCO (256 x 256 top-down crops): runtime,
# data, the PCT-Base estimator in training mode initialised from the heatmap-trained SwinV2-B,
# AdamW and a 500-iteration linear warm-up followed by a cosine decay to the end of training
# (the scheduler's `end` defaults to train_cfg.max_epochs). Stage configs set head.stage, the
# optimiser's lr and weight decay, max_epochs and batch sizes.
_base_ = [
    'mmpose::_base_/default_runtime.py',
    './pct_coco-256x256_topdown-data.py',
    './pct_swinv2-base_model.py',
]
custom_imports = dict(imports=['postometro_mm'], allow_failed_imports=False)
default_scope = 'mmpose'
# mmpose's buffer synchronisation, and the random generators' states in checkpoints (exact
# --resume)
custom_hooks = [dict(type='SyncBuffersHook'), dict(type='RNGStateHook')]

model = dict(
    type='PCTPoseEstimator',
    frozen=False,  # training configs; PostoMETRO uses the default frozen=True
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    # User-provided: PCT's heatmap-trained SwinV2-B (MMPose 0.x checkpoint, `backbone.*` keys).
    backbone=dict(
        _base_.pct_base_backbone,
        drop_path_rate=0.3,
        init_cfg=dict(
            type='Pretrained', checkpoint='weights/heatmap/swin_base.pth', prefix='backbone.')),
    head=dict(
        _base_.pct_base_head,
        keypoint_loss_weight=1.0,
        latent_loss_weight=15.0,
        token_loss_weight=1.0,
        smooth_l1_beta=0.05),
    test_cfg=dict(flip_test=True))

train_cfg = dict(by_epoch=True, val_interval=5)
# PCT's SwinLayerDecayOptimizerConstructor (layer decay 0.9) only rescales backbone learning
# rates, and the backbone is frozen, so plain AdamW with no decay on norms and biases (1-D
# parameters) is equivalent.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', betas=(0.9, 0.999)),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-5, by_epoch=True, begin=0,
         convert_to_iter_based=True),
]
default_hooks = dict(
    checkpoint=dict(interval=5, save_best='coco/AP', rule='greater', max_keep_ckpts=2))
