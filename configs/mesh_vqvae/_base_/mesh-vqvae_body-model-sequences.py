# Training, validation and testing of a Mesh-VQ-VAE on body-model meshes of motion sequences
# (AMASS / BEDLAM), validated and tested on 3DPW-TEST (V2V / PA-V2V, mm); the model comes from
# the final config's other base (configs/_base_/models/mesh_vqvae_{small,medium}.py). Recipe of
# the reference: Adam, lr 5e-5, batch 16, loss = V2V + 0.25 x commitment, EMA codebook (decay
# 0.99), no dead-code restart.
#
# The reference trains 500 passes over its sequence files at one random frame per file, i.e.
# 500 x (files / 16) iterations; max_iters below is that for 6400 files: set it for your corpus
# (--cfg-options train_cfg.max_iters=N; the learning rate is constant). Assets: the SMPL folder of
# configs/_base_/body_model_paths.py and the model's connection files.
_base_ = [
    '../../_base_/datasets/body_model_meshes.py',
    '../../_base_/body_model_paths.py',
    '../../_base_/postometro_runtime.py',
]

mesh_pipeline = [
    dict(type='BuildBodyModelMesh',
         body_model=dict(type='GenderedSMPL', model_path=_base_.smpl_model_dir)),
    dict(type='PackMeshAutoencoderInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=mesh_pipeline))
val_dataloader = dict(dataset=dict(pipeline=mesh_pipeline))
test_dataloader = dict(dataset=dict(pipeline=mesh_pipeline))

max_iters = 200000
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-5))
auto_scale_lr = dict(enable=False, base_batch_size=16)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=5000, save_best='3dpw/V2V',
                    rule='less', max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
# No images to draw: mmengine's plain visualizer (the runtime's MeshVisualizer needs faces).
visualizer = dict(_delete_=True, type='Visualizer', vis_backends=[dict(type='LocalVisBackend')],
                  name='visualizer')
