# Defaults of every mesh training set (mesh_mixed_train*.py, pw3d_train*.py, oh3d_train.py):
# FastMETRO's augmentation (SPEC §4.6) on 256x256 crops (PCT's classifier needs 256), 32 crops
# per GPU. The keys here are training-only, so a training-set base and an evaluation-set base
# (children of mesh_eval_defaults.py) can be inherited side by side by a final config.
#
# Crop first, then flip: MeshRandomFlip mirrors the crop (image, COCO-17/J24 2D and 3D joints,
# SMPL pose) about its vertical axis. RandomOcclusion is off (prob 0.0); to turn it on, e.g.
#   --cfg-options train_dataloader.dataset.pipeline.6.prob=0.5
# When a final config changes train_dataloader.batch_size on a MultiSourceSampler set
# (mesh_mixed_train.py), it must set train_dataloader.sampler.batch_size to the same value.
train_batch_size = 32

train_pipeline = [
    dict(type='LoadMeshImage'),
    # box side x N(1, 0.25) clipped to [0.75, 1.25]
    dict(type='MeshRandomScale', std=0.25, clip=(0.75, 1.25)),
    # N(0, 30 deg) clipped to +-60 deg, no rotation with probability 0.6
    dict(type='MeshRandomRotation', std=30.0, max_angle=60.0, zero_prob=0.6),
    dict(type='MeshTopdownAffine', input_size=(256, 256)),
    dict(type='MeshRandomFlip', prob=0.5),
    # per-channel pixel factors U[0.6, 1.4]
    dict(type='MeshPixelNoise', noise_factor=0.4),
    dict(type='RandomOcclusion', prob=0.0),
    dict(type='PackMeshInputs'),
]

train_dataloader = dict(
    batch_size=train_batch_size,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
