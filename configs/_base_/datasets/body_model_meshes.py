# Meshes for mesh autoencoders (Mesh-VQ-VAE): SMPL parameters through the body model, in the
# model's canonical frame (global orientation 0), centred on their vertex mean.
#
# Training: motion sequences, one random frame per sequence file per epoch (the Mesh-VQ-VAE
# recipe, which trains on BEDLAM's animation files). Any mix of AMASS (SMPL-H G: poses
# (T, 156)) and BEDLAM (SMPL-X animation files: poses (T, 165)) .npz files below
#   data/body_model_sequences/
# SMPL-H / SMPL-X poses keep their global orientation and 21 body joints; the SMPL layer sets its
# two hand joints to rest and uses the first 10 betas (BodyModelMeshDataset's docstring).
#
# Validation / test: the 3DPW test split's ground-truth meshes (the reference's evaluation), from
# the annotation file of tools/dataset_converters/pw3d_converter.py (see pw3d_test.py);
# validation reads every 10th frame of each sequence, test every frame.
#
# The pipelines build meshes with a body model whose path is not known here (mmengine forbids a
# key in two sibling bases, and the model bases own configs/_base_/body_model_paths.py): the
# final config completes them, e.g.
#   mesh_pipeline = [
#       dict(type='BuildBodyModelMesh',
#            body_model=dict(type='GenderedSMPL', model_path=_base_.smpl_model_dir)),
#       dict(type='PackMeshAutoencoderInputs')]
#   train_dataloader = dict(dataset=dict(pipeline=mesh_pipeline))
#   val_dataloader = dict(dataset=dict(pipeline=mesh_pipeline))
#   test_dataloader = dict(dataset=dict(pipeline=mesh_pipeline))
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='BodyModelMeshDataset', data_root='data/',
                 ann_file='body_model_sequences', frames='random'))

val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='BodyModelMeshDataset', data_root='data/3DPW/',
                 ann_file='annotations/pw3d_test.npz', frames='all', frame_stride=10,
                 test_mode=True))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], frame_stride=1))

val_evaluator = dict(type='MeshReconstructionMetric', prefix='3dpw')
test_evaluator = val_evaluator
