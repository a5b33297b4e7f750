# 3DPW-train for fine-tuning (paper: lr 2e-5, 30 epochs), from the 3DPW converter's
# annotations/pw3d_train.npz (converted with the body model, so it has J24 3D joints; see
# pw3d_test.py for the command and the expected tree).
_base_ = ['./mesh_train_defaults.py']

train_data_root = 'data/3DPW/'

train_dataloader = dict(
    dataset=dict(
        type='PW3DDataset',
        data_root=train_data_root,
        ann_file='annotations/pw3d_train.npz',
        data_prefix=dict(img='')))
