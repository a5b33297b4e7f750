# Defaults of every mesh evaluation set (pw3d_test*.py, pw3d_occ.py, pw3d_pc.py, oh3d_test.py):
# 256x256 crops of the annotated boxes, every sample evaluated exactly once (no shuffling, no
# round-up across GPUs), MeshMetric with protocols A (METRO/FastMETRO/PostoMETRO) and B
# (VQ-HPS). The keys here are evaluation-only, so an evaluation-set base and a training-set base
# (children of mesh_train_defaults.py) can be inherited side by side by a final config.
#
# MeshMetric builds the ground-truth meshes with its own body model. Its paths live in
# configs/_base_/body_model_paths.py, which the model base inherits; mmengine forbids the same
# key in two sibling bases, so this file cannot inherit it too. The final config (which sees
# every base's keys through `_base_`) completes the evaluators:
#   val_evaluator = dict(
#       body_model=dict(type='GenderedSMPL', model_path=_base_.smpl_model_dir),
#       joint_regressor=_base_.j_regressor_h36m)
#   test_evaluator = val_evaluator
test_pipeline = [
    dict(type='LoadMeshImage'),
    dict(type='MeshTopdownAffine', input_size=(256, 256)),
    dict(type='PackMeshInputs'),
]

val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='MeshMetric', protocols=['A', 'B'])
test_evaluator = val_evaluator
