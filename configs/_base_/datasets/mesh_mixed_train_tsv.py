# METRO / FastMETRO's own mixed training set: the composite TSV
# Tax-H36m-coco40k-Muco-UP-Mpii (Human3.6M, COCO-2014 40k, MuCo-3DHP, UP-3D, MPII with
# Pose2Mesh labels), sampled uniformly over its rows, i.e. in proportion to the dataset sizes.
# For per-source shares in every batch use mesh_mixed_train.py.
#
# Expected tree: FastMETRO's datasets/ folder (docs/Download.md there), e.g. as a symlink:
#   data/metro_tsv/
#   ├── Tax-H36m-coco40k-Muco-UP-Mpii/{train.yaml, train.linelist.tsv, train.linelist.lineidx}
#   ├── human3.6m/{train.img.tsv, train.hw.tsv, smpl/train.label.smpl.p1.tsv, …}
#   ├── coco_smpl/…  muco/…  up3d/…  mpii/…   # TSVs named by the composite train.yaml
#   └── 3dpw/…                                 # see pw3d_train_tsv.py / pw3d_test_tsv.py
_base_ = ['./mesh_train_defaults.py']

train_data_root = 'data/metro_tsv/'

train_dataloader = dict(
    dataset=dict(
        type='METROTSVDataset',
        data_root=train_data_root,
        ann_file='Tax-H36m-coco40k-Muco-UP-Mpii/train.yaml'))
