# PCT stage 1 (tokenizer, VQ-VAE over COCO-17 poses) with image guidance g = 0.5, PCT-Base.
# Reference schedule: 8 GPUs x 64 = 512 poses per step, AdamW lr 1e-2, wd 0.15, 50 epochs, cosine
# with 500 linear warm-up iterations. Only the tokenizer trains (the SwinV2 backbone is frozen and
# only supplies image features at the joints).
_base_ = ['./_base_/pct_swinv2-base_coco_training.py']

model = dict(head=dict(stage='tokenizer'))

train_cfg = dict(max_epochs=50)
optim_wrapper = dict(optimizer=dict(lr=1e-2, weight_decay=0.15))
auto_scale_lr = dict(base_batch_size=512)
train_dataloader = dict(batch_size=64)
val_dataloader = dict(batch_size=64)
test_dataloader = dict(batch_size=64)
