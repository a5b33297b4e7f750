# Mixed 3D/2D training set of METRO / FastMETRO / PostoMETRO: Human3.6M, MuCo-3DHP, UP-3D,
# COCO-2014 and MPII, with a fixed share of every source in each batch (mmpose's
# CombinedDataset + MultiSourceSampler). An epoch is the summed size of the sources.
#
# Sources, in the formats they are distributed in:
# - Human3.6M, COCO-2014, MPII: SPIN-layout annotation npz (imgname, center, scale, part, S,
#   pose, shape, has_smpl; SPINNpzDataset). h36m_train.npz comes from SPIN's preprocessing (its
#   SMPL labels need MoSh data; without them has_smpl is 0); COCO and MPII use the EFT
#   pseudo-ground-truth fits in the same layout (coco_2014_train_eft.npz, mpii_train_eft.npz).
# - MuCo-3DHP and UP-3D: no SPIN-layout release exists; METRO/FastMETRO's TSV files (Pose2Mesh
#   labels) are read directly (METROTSVDataset). Their download has no per-set yaml; write one
#   next to the TSVs, e.g. metro_tsv/muco/train.yaml:
#       img: train.img.tsv
#       hw: train.hw.tsv
#       label: train.label.tsv
#       linelist: train.linelist.tsv
#   and metro_tsv/up3d/trainval.yaml the same with "trainval".
#
# Expected tree (edit train_data_root, or the per-source paths below):
#   data/
#   ├── dataset_extras/{h36m_train.npz, coco_2014_train_eft.npz, mpii_train_eft.npz}
#   ├── h36m/images/…            # imgname is relative to the source folder, as in SPIN
#   ├── coco/train2014/…
#   ├── mpii/images/…
#   └── metro_tsv/               # FastMETRO's datasets/ folder (e.g. a symlink)
#       ├── muco/{train.img.tsv, train.hw.tsv, train.label.tsv, train.linelist.tsv, train.yaml}
#       └── up3d/{trainval.img.tsv, …, trainval.yaml}
#
# train_source_ratio is the share of each source in a batch (a starting point that balances
# lab 3D data and in-the-wild 2D data). FastMETRO itself samples in proportion to the dataset
# sizes; mesh_mixed_train_tsv.py reproduces that with its composite TSV. To add 3DPW-train
# (pw3d_train.py), append its dataset dict to train_dataloader.dataset.datasets and a ratio to
# train_dataloader.sampler.source_ratio in the final config.
_base_ = ['./mesh_train_defaults.py']

train_data_root = 'data/'

train_sources = [
    dict(type='SPINNpzDataset', data_root=train_data_root,
         ann_file='dataset_extras/h36m_train.npz', data_prefix=dict(img='h36m/'),
         metainfo=dict(dataset_name='h36m')),
    dict(type='METROTSVDataset', data_root=train_data_root, ann_file='metro_tsv/muco/train.yaml',
         metainfo=dict(dataset_name='muco')),
    dict(type='METROTSVDataset', data_root=train_data_root,
         ann_file='metro_tsv/up3d/trainval.yaml', metainfo=dict(dataset_name='up3d')),
    dict(type='SPINNpzDataset', data_root=train_data_root,
         ann_file='dataset_extras/coco_2014_train_eft.npz', data_prefix=dict(img='coco/'),
         metainfo=dict(dataset_name='coco')),
    dict(type='SPINNpzDataset', data_root=train_data_root,
         ann_file='dataset_extras/mpii_train_eft.npz', data_prefix=dict(img='mpii/'),
         metainfo=dict(dataset_name='mpii')),
]
# crops of each source per batch of 32 (relative shares for other batch sizes)
#                   h36m muco up3d coco mpii
train_source_ratio = [10, 6, 2, 10, 4]

train_dataloader = dict(
    sampler=dict(type='MultiSourceSampler', batch_size=_base_.train_batch_size,
                 source_ratio=train_source_ratio),
    dataset=dict(
        type='CombinedDataset',
        # COCO-17 keypoint metainfo (mmpose's, found in its package when not in ./configs)
        metainfo=dict(from_file='configs/_base_/datasets/coco.py'),
        datasets=train_sources))
