# PCT stage 1 (tokenizer, VQ-VAE over COCO-17 poses) with image guidance g = 0.5, PCT-Base.
# Reference schedule: 8 GPUs x 64 = 512 poses per step, AdamW lr 1e-2, wd 0.15, 50 epochs, cosine
# with 500 linear warm-up iterations. Only the tokenizer trains (the SwinV2 backbone is frozen and
# only supplies image features at the joints).
_base_ = [
    'mmpose::_base_/default_runtime.py',
    './_base_/pct_coco-256x256_topdown-data.py',
    './_base_/pct_swinv2-base_model.py',
]
custom_imports = dict(imports=['postometro_mm'], allow_failed_imports=False)
default_scope = 'mmpose'

# User-provided: PCT's heatmap-trained SwinV2-B (MMPose 0.x checkpoint with `backbone.*` keys).
swinv2_heatmap_checkpoint = 'weights/heatmap/swin_base.pth'

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=swinv2_heatmap_checkpoint, prefix='backbone.')),
    head=dict(stage='tokenizer'))

max_epochs = 50
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
# PCT's SwinLayerDecayOptimizerConstructor only rescales backbone learning rates, and the backbone
# is frozen, so plain AdamW with no decay on norms and biases (1-D parameters) is equivalent.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-2, betas=(0.9, 0.999), weight_decay=0.15),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-5, by_epoch=True, begin=0, end=max_epochs,
         T_max=max_epochs, convert_to_iter_based=True),
]
auto_scale_lr = dict(base_batch_size=512)
train_dataloader = dict(batch_size=64)
val_dataloader = dict(batch_size=64)
test_dataloader = dict(batch_size=64)
default_hooks = dict(
    checkpoint=dict(interval=5, save_best='coco/AP', rule='greater', max_keep_ckpts=2))
