# PCT stage 2 (token classifier) for PCT-Base with an image-guided (g = 0.5) tokenizer.
# Reference schedule: 8 GPUs x 32 = 256 crops per step, AdamW lr 8e-4, wd 0.05, 210 epochs, cosine
# with 500 linear warm-up iterations, fp16 (add `--amp` on GPUs). Backbone and tokenizer are
# frozen; the classifier trains.
_base_ = ['./_base_/pct_swinv2-base_coco_training.py']

# Stage-1 result: a checkpoint of pct_tokenizer_swinv2-base_coco-256x256.py, or PCT's released
# tokenizer converted with tools/model_converters/pct_to_plugin.py.
pct_tokenizer_checkpoint = 'work_dirs/pct_tokenizer_swinv2-base_coco-256x256/epoch_50.pth'

model = dict(
    head=dict(
        stage='classifier',
        tokenizer=dict(
            init_cfg=dict(
                type='Pretrained', checkpoint=pct_tokenizer_checkpoint,
                prefix='head.tokenizer.')),
        classifier=_base_.pct_base_classifier))

train_cfg = dict(max_epochs=210)
optim_wrapper = dict(optimizer=dict(lr=8e-4, weight_decay=0.05))
auto_scale_lr = dict(base_batch_size=256)
train_dataloader = dict(batch_size=32)
# Test on person detections (PCT: use_gt_bbox=False at test time); validation uses GT boxes.
test_dataloader = dict(
    dataset=dict(
        bbox_file='data/coco/person_detection_results/'
        'COCO_val2017_detections_AP_H_56_person.json'))
