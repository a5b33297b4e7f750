# Quickstart Mesh-VQ-VAE (VQ-HPS's mesh tokenizer): configs/mesh_vqvae/
# mesh-vqvae-medium_body-model-sequences.py on the synthetic world, trained on the ground-truth
# meshes of its training split (every frame) and tested on those of its test split:
# - the world's small body mesh and its connection hierarchy (quickstart_world.py:
#   world_mesh_vqvae; 20 tokens of 9 dims, 64 codes, dead-code restarts);
# - 250 iterations of 16 meshes at lr 1e-3 instead of the reference's 5e-5 over BEDLAM.
# VQ-HPS (vqhps_r18-tiny_quickstart-128x128.py) then predicts this model's tokens.
_base_ = [
    '../mesh_vqvae/mesh-vqvae-medium_body-model-sequences.py',
    './_base_/quickstart_world.py',
]
model = dict(**_base_.world_mesh_vqvae, dead_code_threshold=1.0)

_mesh_pipeline = [
    dict(type='BuildBodyModelMesh',
         body_model=dict(type='GenderedSMPL', model_path=_base_.world_body_model_dir)),
    dict(type='PackMeshAutoencoderInputs'),
]
# The world's npz are SPIN-style: BodyModelMeshDataset reads their SMPL parameters (all frames).
train_dataloader = dict(
    _delete_=True, batch_size=16, drop_last=True, collate_fn=dict(type='default_collate'),
    **_base_.world_train_loader,
    dataset=dict(type='BodyModelMeshDataset', data_root=_base_.world_root + 'train',
                 ann_file='quickstart_train.npz', frames='all', pipeline=_mesh_pipeline))
test_dataloader = dict(
    _delete_=True, collate_fn=dict(type='default_collate'), **_base_.world_test_loader,
    dataset=dict(type='BodyModelMeshDataset', data_root=_base_.world_root + 'test',
                 ann_file='quickstart_test.npz', frames='all', test_mode=True,
                 pipeline=_mesh_pipeline))
test_evaluator = dict(type='MeshReconstructionMetric', prefix='test')

max_iters = 250
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
# No validation while training: tools/test.py evaluates the final checkpoint.
val_cfg = None
val_dataloader = None
val_evaluator = None
optim_wrapper = dict(optimizer=dict(lr=1e-3))
default_hooks = _base_.world_hooks
log_processor = _base_.world_log_processor
randomness = _base_.world_randomness
