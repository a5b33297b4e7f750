# 3DOH50K train split for fine-tuning (paper: lr 1e-4, 30 epochs), from the 3DOH converter's
# annotations/oh3d_train.npz (see oh3d_test.py for the command and the expected tree).
_base_ = ['./mesh_train_defaults.py']

train_data_root = 'data/3DOH50K/'

train_dataloader = dict(
    dataset=dict(
        type='OH3DDataset',
        data_root=train_data_root,
        ann_file='annotations/oh3d_train.npz',
        data_prefix=dict(img='')))
