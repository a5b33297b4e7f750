# 3DOH50K test split (Zhang et al., CVPR 2020; object-occluded people, neutral SMPL ground
# truth). Annotation file written by
#   python tools/dataset_converters/oh3d_converter.py data/3DOH50K data/3DOH50K/annotations \
#       --body-model-dir data/body_models/smpl \
#       --j-regressor-extra data/body_models/J_regressor_extra.npy
# Expected tree (3DOH50K's release + the converter's output):
#   data/3DOH50K/
#   ├── trainset/{annots.json, images/…}
#   ├── testset/{annots.json, images/…}
#   └── annotations/oh3d_{train,test}.npz
_base_ = ['./mesh_eval_defaults.py']

eval_data_root = 'data/3DOH50K/'

val_dataloader = dict(
    dataset=dict(
        type='OH3DDataset',
        data_root=eval_data_root,
        ann_file='annotations/oh3d_test.npz',
        data_prefix=dict(img='')))
test_dataloader = val_dataloader

val_evaluator = dict(prefix='3doh')
test_evaluator = val_evaluator
