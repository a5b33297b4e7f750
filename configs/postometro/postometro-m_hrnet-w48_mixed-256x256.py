# PostoMETRO-M, HRNet-W48 + PCT-Base pose tokens (2 encoder + 2 decoder layers per transformer).
# The reference M model used a PCT tokenizer without image guidance (guide ratio 0).
_base_ = [
    '../_base_/models/postometro_hrnet-w48.py',
    '../_base_/datasets/mesh_mixed_train.py',
    '../_base_/datasets/pw3d_test.py',
]
model = dict(
    pose_tokenizer=dict(head=dict(tokenizer=dict(guide_ratio=0.0))),
    head=dict(num_encoder_layers=2, num_decoder_layers=2))
# 4 GPUs x 24 crops = the paper's batch of 96 for HRNet-W48.
train_dataloader = dict(batch_size=24, sampler=dict(batch_size=24))
auto_scale_lr = dict(base_batch_size=96)
default_hooks = dict(
    checkpoint=dict(save_best='3dpw/PA-MPJPE', rule='less', max_keep_ckpts=3))
# MeshMetric's ground-truth body model (paths from configs/_base_/body_model_paths.py).
val_evaluator = dict(
    body_model=dict(type='GenderedSMPL', model_path={{_base_.smpl_model_dir}}),
    joint_regressor={{_base_.j_regressor_h36m}})
test_evaluator = val_evaluator
