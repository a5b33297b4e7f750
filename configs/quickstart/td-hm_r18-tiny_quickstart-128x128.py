# Quickstart image-backbone pretraining: MMPose's SimpleBaseline heatmap config whose COCO
# checkpoint initialises PostoMETRO-S's ResNet-50 in the real configs
# (mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py),
# shrunk like the quickstart's mesh models and trained on the synthetic world's COCO-17
# keypoints: ResNet-18 at 1/4 width from scratch, 128x128 crops, 32x32 heatmaps.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py',
    './_base_/quickstart_world.py',
]
custom_imports = dict(imports=['postometro_mm'], allow_failed_imports=False)

codec = dict(type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(32, 32), sigma=2)
model = dict(
    backbone=dict(depth=18, base_channels=16, stem_channels=16, init_cfg=None),
    head=dict(in_channels=128, deconv_out_channels=(64, 64, 64), decoder=codec),
    test_cfg=dict(flip_test=False))

max_iters = 400
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
# Pretraining only: no evaluation (the training log reports acc_pose, mmpose's PCK@0.05 of the
# heatmap maxima).
val_cfg = None
val_dataloader = None
val_evaluator = None
test_cfg = None
test_dataloader = None
test_evaluator = None
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-2, by_epoch=False, begin=0),
]
auto_scale_lr = dict(enable=False)

_pose_train_pipeline = [
    *_base_.world_pose_train_pipeline[:-1],
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(
    _delete_=True, batch_size=16, **_base_.world_train_loader,
    dataset=dict(_base_.world_train, pipeline=_pose_train_pipeline))

default_hooks = _base_.world_hooks
log_processor = _base_.world_log_processor
randomness = _base_.world_randomness
