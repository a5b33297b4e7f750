# PostoMETRO training schedule (paper: AdamW (0.9, 0.999), lr 1e-4, 30 epochs, batch 128 for R50 /
# 96 for HRNet-W48) with FastMETRO's weight decay 1e-4 and gradient clipping at 0.3.
# `--auto-scale-lr` rescales lr when the total batch differs from base_batch_size.
# It extends the runtime (mmpose's runtime defines train_cfg/val_cfg/test_cfg too, and mmengine
# forbids the same key in two sibling bases).
_base_ = ['../postometro_runtime.py']

max_epochs = 30
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-4),
    clip_grad=dict(max_norm=0.3, norm_type=2))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
auto_scale_lr = dict(enable=False, base_batch_size=128)
