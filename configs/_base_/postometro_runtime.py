# Runtime shared by every postometro_mm config: mmpose's runtime + the plugin's registrations.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['postometro_mm'], allow_failed_imports=False)
default_scope = 'mmpose'

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=1, save_best=None, max_keep_ckpts=3),
    visualization=dict(type='PoseVisualizationHook', enable=False))

# mmpose's SyncBuffersHook flattens every buffer and fails on the mesh sampler's sparse ones;
# this one averages the dense floating-point buffers (BatchNorm statistics) across processes.
# RNGStateHook keeps the random generators' states in checkpoints: --resume continues exactly.
custom_hooks = [dict(type='SyncDenseBuffersHook'), dict(type='RNGStateHook')]

visualizer = dict(
    type='MeshVisualizer', vis_backends=[dict(type='LocalVisBackend')], name='visualizer')

# Training on CPUs (tests, quickstart) uses gloo: --cfg-options env_cfg.dist_cfg.backend=gloo
env_cfg = dict(dist_cfg=dict(backend='nccl'))
