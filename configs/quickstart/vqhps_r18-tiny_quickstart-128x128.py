# Quickstart VQ-HPS: configs/vqhps/vqhps_r50_mixed-224x224.py shrunk like the quickstart's
# PostoMETRO-S (postometro-s_r18-tiny_quickstart-128x128.py) and trained on the same world split:
# - crops 128x128 instead of 224x224;
# - both backbones (mesh tokens; rotation and camera): the quickstart's ResNet
#   (_base_/quickstart_resnet.py, 128 x 8 x 8 features) heatmap-trained on the world
#   (td-hm_r18-tiny_quickstart-128x128.py) instead of ImageNet ResNet-50s, fine-tuned from
#   their last stage on like the other mesh models' (600 iterations on the full-mode world:
#   PA-MPJPE 105.7 / 108.3 mm on test / test_occluded all trainable, 107.3 / 109.4 with stages
#   1-3 frozen, in 95 s instead of about 130);
# - transformer 1 + 1 layers at width 64, 4 heads, FFN 256, no dropout; rotation MLP 256 wide;
# - the quickstart's Mesh-VQ-VAE (mesh-vqvae_quickstart.py: 20 tokens, 64 codes), frozen;
# - 600 iterations of 8 crops at lr 1e-3 (the other mesh models' schedule at a quarter of their
#   2400 iterations: a VQ-HPS iteration runs two backbones, and the quickstart keeps its time)
#   instead of 200 epochs of 32 at 1e-4.
_base_ = [
    '../vqhps/vqhps_r50_mixed-224x224.py',
    './_base_/quickstart_world.py',
    './_base_/quickstart_resnet.py',
]
# The checkpoints of the earlier stages; tools/quickstart.py passes the ones it trained with
#   --cfg-options model.backbone.init_cfg.checkpoint=...
#                 model.rotation_backbone.init_cfg.checkpoint=...
#                 model.head.mesh_tokenizer.init_cfg.checkpoint=...
resnet_heatmap_checkpoint = (_base_.quickstart_dir +
                             '/td-hm_r18-tiny_quickstart-128x128/iter_800.pth')
mesh_vqvae_checkpoint = _base_.quickstart_dir + '/mesh-vqvae_quickstart/iter_250.pth'

# The heatmap model's state dict names the backbone's weights `backbone.*`.
_resnet = dict(**_base_.quickstart_mesh_backbone,
               init_cfg=dict(checkpoint=resnet_heatmap_checkpoint, prefix='backbone.'))
model = dict(
    backbone=_resnet,
    rotation_backbone=_resnet,
    head=dict(
        in_channels=_base_.quickstart_resnet_channels,
        rot_in_channels=_base_.quickstart_resnet_channels,
        mesh_tokenizer=dict(**_base_.world_mesh_vqvae,
                            init_cfg=dict(checkpoint=mesh_vqvae_checkpoint)),
        joint_regressor=_base_.world_j_regressor_h36m,
        body_model=dict(model_path=_base_.world_body_model_dir),
        embed_dims=64,
        num_heads=4,
        feedforward_channels=256,
        rot_hidden_channels=256,
        dropout=0.0))

max_iters = 600
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
val_cfg = None
val_dataloader = None
val_evaluator = None
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-2, by_epoch=False,
         begin=max_iters * 3 // 4, end=max_iters),
]
default_hooks = _base_.world_hooks
train_dataloader = dict(_delete_=True, **_base_.world_mesh_train_loader)
test_dataloader = dict(_delete_=True, **_base_.world_mesh_test_loader)
test_evaluator = dict(_delete_=True, **_base_.world_mesh_test_evaluator)

visualizer = dict(faces=_base_.world_body_model_dir)
log_processor = _base_.world_log_processor
randomness = _base_.world_randomness
