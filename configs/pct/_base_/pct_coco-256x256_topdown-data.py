# COCO-2017 person keypoints, top-down 256x256 crops, as PCT (Geng et al., CVPR 2023) trains them,
# expressed with MMPose 1.x transforms. Differences from PCT's MMPose-0.x pipeline:
# - RandomBBoxTransform draws shift/scale/rotation from normals truncated at ±1 σ-units (MMPose 1.x)
#   instead of clipped normals: shift 0.16 w.p. 0.3, scale [0.5, 1.5], rotation ±80° w.p. 0.6 is
#   MMPose's translation of 0.x's shift_factor=0.16, scale_factor=0.5, rot_factor=40 (PCT's).
# - PCT's Albumentation ColorJitter(0.4, 0.4, 0.4, 0.2) + GridDropout(p=0.5) need the
#   `albumentations` package, which this environment does not ship; PhotometricDistortion stands in
#   for the colour jitter and there is no grid dropout.
# PackPoseInputs(pack_transformed=True) gives PCTHead the crop-pixel ground truth
# (gt_instances.transformed_keypoints).
data_root = 'data/coco/'
dataset_type = 'CocoDataset'
data_mode = 'topdown'
input_size = (256, 256)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody', prob=0.3),
    dict(type='RandomBBoxTransform', shift_factor=0.16, shift_prob=0.3,
         scale_factor=(0.5, 1.5), rotate_factor=80, rotate_prob=0.6),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PhotometricDistortion'),
    dict(type='PackPoseInputs', pack_transformed=True),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.12),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='PackPoseInputs', pack_transformed=True),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline,
    ))
# Validation on ground-truth boxes (PCT's use_gt_bbox=True).
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=val_pipeline,
    ))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
