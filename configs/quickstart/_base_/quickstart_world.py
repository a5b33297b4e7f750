# The quickstart's synthetic world (postometro_mm.quickstart.generate_world, run by
# `make quickstart` / tools/quickstart.py into <quickstart dir>/world): SPIN-style npz + images
# per split, rendered from a small synthetic SMPL-format body model (~1270 / 340 / 100 vertices on
# the three mesh levels) written into world/body_model.
#
# The quickstart folder defaults to work_dirs/quickstart (relative to the repository root);
# tools/quickstart.py sets POSTOMETRO_QUICKSTART_DIR when it runs the stages with another
# --work-dir.
#
# Only variables live here (no final keys), so the PCT and PostoMETRO quickstart configs can
# inherit this file beside the real configs they shrink without duplicate-key errors.
quickstart_dir = '{{$POSTOMETRO_QUICKSTART_DIR:work_dirs/quickstart}}'
world_root = quickstart_dir + '/world/'

# The world's body model, in SMPL's on-disk formats (used like configs/_base_/body_model_paths.py).
world_body_model_dir = world_root + 'body_model'
world_j_regressor_h36m = world_body_model_dir + '/J_regressor_h36m_correct.npy'
world_mesh_sampler = world_body_model_dir + '/mesh_sampler.npz'  # pickle-free sampler file

# The Mesh-VQ-VAE (VQ-HPS's mesh tokenizer) of the world's body mesh: the `medium` layers of
# configs/_base_/models/mesh_vqvae_medium.py on a connection hierarchy of the world's mesh that the
# quickstart's mesh_hierarchy stage writes (tools/misc/mesh_connection_hierarchy.py's builder),
# world_num_vertices -> 300 -> 80 -> 20 vertices: 20 tokens (SMPL's 6890 vertices give 54), and a
# 64-code codebook with dead-code restarts (the reference's 512 codes would mostly stay unused
# on the world's 2000 bodies).
world_num_vertices = 1270
world_mesh_hierarchy_dir = quickstart_dir + '/mesh_hierarchy'
world_mesh_hierarchy_sizes = (world_num_vertices, 300, 80, 20)
world_mesh_vqvae = dict(connection_dir=world_mesh_hierarchy_dir, num_vertices=world_num_vertices,
                        num_codes=64)

# Crops of 128x128 px (the world's images are 128 px, people ~100 px tall).
world_input_size = (128, 128)

# One SPINNpzDataset per split; dataset_name names the split in logs.
world_train = dict(type='SPINNpzDataset', data_root=world_root + 'train',
                   ann_file='quickstart_train.npz', data_prefix=dict(img=''),
                   metainfo=dict(dataset_name='quickstart_train'))
world_test = dict(type='SPINNpzDataset', data_root=world_root + 'test',
                  ann_file='quickstart_test.npz', data_prefix=dict(img=''),
                  metainfo=dict(dataset_name='quickstart_test'), test_mode=True)
world_test_occluded = dict(type='SPINNpzDataset', data_root=world_root + 'test_occluded',
                           ann_file='quickstart_test_occluded.npz', data_prefix=dict(img=''),
                           metainfo=dict(dataset_name='quickstart_test_occluded'),
                           test_mode=True)

# Mesh models, training and testing: mesh_eval_defaults.py's crop at world_input_size. The real
# configs' augmentation (mesh_train_defaults.py: scale, rotation, flip, pixel noise) is left
# out: the world already varies placement, size, background, light and occluders, and in
# minutes of training the augmented models stay at the mean mesh longer (measured, 600
# iterations after heatmap pretraining: PA-MPJPE 105 mm without augmentation, 128 mm with flip,
# pixel noise and mild scaling, 209 mm for the mean mesh).
world_mesh_pipeline = [
    dict(type='LoadMeshImage'),
    dict(type='MeshTopdownAffine', input_size=world_input_size),
    dict(type='PackMeshInputs'),
]

# 2D keypoints (COCO-17: the heatmap pretraining and PCT): MMPose's top-down pipeline of
# configs/pct/_base_/pct_coco-256x256_topdown-data.py on the same samples, without its
# horizontal flip and half-body crop. The world's boxes are already 1.2x the body (as 3DPW's),
# so no further padding, and the world shows whole people.
# No flip: the world's people wear side-coded colours (left limbs warm, right limbs cool,
# postometro_mm/quickstart/scene.py), so a mirrored crop shows a body whose left side wears the
# right side's colours, a person the world never contains, and with the keypoint labels
# swapped to match, half the samples teach that either colour may be either side. Real
# people look alike on both sides, so the real configs keep the flip. Measured
# (td-hm_r18-tiny_quickstart-128x128.py): with it, four in five of the heatmap model's gross
# errors put a joint at its left / right twin.
world_pose_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.0),
    dict(type='RandomBBoxTransform', shift_factor=0.16, shift_prob=0.3,
         scale_factor=(0.75, 1.25), rotate_factor=60, rotate_prob=0.4),
    dict(type='TopdownAffine', input_size=world_input_size),
    dict(type='PackPoseInputs', pack_transformed=True),
]
world_pose_test_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.0),
    dict(type='TopdownAffine', input_size=world_input_size),
    dict(type='PackPoseInputs', pack_transformed=True),
]

# Two CPU cores, two stages at a time (tools/quickstart.py --jobs 2): samples are loaded in the
# training process itself. A loader process would only take CPU time from the other stage
# (measured, two mesh trainings side by side: 500 iterations in 78 s without loader processes,
# 88 s with one each, the same losses).
world_train_loader = dict(num_workers=0, persistent_workers=False,
                          sampler=dict(type='DefaultSampler', shuffle=True))
world_test_loader = dict(batch_size=50, num_workers=0, persistent_workers=False,
                         drop_last=False,
                         sampler=dict(type='DefaultSampler', shuffle=False, round_up=False))

# Every quickstart training: a progress line every 10 iterations (the training curves of the
# report come from these logs), one checkpoint at the end (iter_<max_iters>.pth, named in
# work_dir/last_checkpoint), seed 0. Final configs set `default_hooks = _base_.world_hooks` etc.
world_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=-1, save_last=True, save_best=None,
                    max_keep_ckpts=1))
world_log_processor = dict(by_epoch=False, window_size=10)
world_randomness = dict(seed=0)

# The mesh models' data and test metric on the world (the PostoMETRO-S, FastMETRO-S and VQ-HPS
# quickstart configs: `train_dataloader = dict(_delete_=True, **_base_.world_mesh_train_loader)`
# etc.): batches of 8 training crops; the test split scored by MeshMetric (protocols A and B).
world_mesh_train_loader = dict(batch_size=8, **world_train_loader,
                               dataset=dict(world_train, pipeline=world_mesh_pipeline))
world_mesh_test_loader = dict(**world_test_loader,
                              dataset=dict(world_test, pipeline=world_mesh_pipeline))
world_mesh_test_evaluator = dict(
    type='MeshMetric', prefix='test', protocols=['A', 'B'],
    body_model=dict(type='GenderedSMPL', model_path=world_body_model_dir),
    joint_regressor=world_j_regressor_h36m)
