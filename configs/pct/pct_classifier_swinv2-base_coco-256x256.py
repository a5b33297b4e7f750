# PCT stage 2 (token classifier) for PCT-Base with an image-guided (g = 0.5) tokenizer.
# Reference schedule: 8 GPUs x 32 = 256 crops per step, AdamW lr 8e-4, wd 0.05, 210 epochs, cosine
# with 500 linear warm-up iterations, fp16 (add `--amp` on GPUs). Backbone and tokenizer are
# frozen; the classifier trains.
_base_ = [
    'mmpose::_base_/default_runtime.py',
    './_base_/pct_coco-256x256_topdown-data.py',
    './_base_/pct_swinv2-base_model.py',
]
custom_imports = dict(imports=['postometro_mm'], allow_failed_imports=False)
default_scope = 'mmpose'

# User-provided: PCT's heatmap-trained SwinV2-B (MMPose 0.x checkpoint with `backbone.*` keys).
swinv2_heatmap_checkpoint = 'weights/heatmap/swin_base.pth'
# Stage-1 result: a checkpoint of pct_tokenizer_swinv2-base_coco-256x256.py, or PCT's released
# tokenizer converted with tools/model_converters/pct_to_plugin.py.
pct_tokenizer_checkpoint = 'work_dirs/pct_tokenizer_swinv2-base_coco-256x256/epoch_50.pth'

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=swinv2_heatmap_checkpoint, prefix='backbone.')),
    head=dict(
        stage='classifier',
        tokenizer=dict(
            init_cfg=dict(
                type='Pretrained', checkpoint=pct_tokenizer_checkpoint,
                prefix='head.tokenizer.')),
        classifier=dict(
            conv_channels=256,
            conv_num_blocks=2,
            hidden_dims=64,
            hidden_inter_dims=256,
            token_inter_dims=64,
            num_blocks=4,
            dropout=0.0)))

max_epochs = 210
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
# PCT's SwinLayerDecayOptimizerConstructor (layer decay 0.9) only rescales backbone learning
# rates, and the backbone is frozen, so plain AdamW with no decay on norms and biases (1-D
# parameters) is equivalent.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=8e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-5, by_epoch=True, begin=0, end=max_epochs,
         T_max=max_epochs, convert_to_iter_based=True),
]
auto_scale_lr = dict(base_batch_size=256)
train_dataloader = dict(batch_size=32)
# Test on person detections (PCT: use_gt_bbox=False at test time); validation uses GT boxes.
test_dataloader = dict(
    dataset=dict(
        bbox_file='data/coco/person_detection_results/'
        'COCO_val2017_detections_AP_H_56_person.json'))
default_hooks = dict(
    checkpoint=dict(interval=5, save_best='coco/AP', rule='greater', max_keep_ckpts=2))
