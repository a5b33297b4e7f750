# VQ-HPS training schedule (reference recipe): AdamW, lr 1e-4, weight decay 1e-3, batch 32,
# 200 epochs, learning rate x0.1 after 100 epochs. It extends the runtime (see
# postometro_30e.py for why a schedule base holds the runtime).
_base_ = ['../postometro_runtime.py']

max_epochs = 200
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-3))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[100], gamma=0.1, begin=0,
         end=max_epochs)
]
auto_scale_lr = dict(enable=False, base_batch_size=32)
