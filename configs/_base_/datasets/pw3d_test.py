# 3DPW-TEST (SPEC §4.5): official test sequences, frames with a valid camera pose, gendered
# ground-truth meshes. Annotation file written by
#   python tools/dataset_converters/pw3d_converter.py data/3DPW data/3DPW/annotations \
#       --body-model-dir data/body_models/smpl \
#       --j-regressor-extra data/body_models/J_regressor_extra.npy
# Expected tree (3DPW's official release + the converter's output):
#   data/3DPW/
#   ├── imageFiles/<sequence>/image_%05d.jpg
#   ├── sequenceFiles/{train,validation,test}/*.pkl
#   └── annotations/pw3d_{train,validation,test,occ,pc}.npz
_base_ = ['./mesh_eval_defaults.py']

eval_data_root = 'data/3DPW/'

val_dataloader = dict(
    dataset=dict(
        type='PW3DDataset',
        data_root=eval_data_root,
        ann_file='annotations/pw3d_test.npz',
        data_prefix=dict(img='')))
test_dataloader = val_dataloader

val_evaluator = dict(prefix='3dpw')
test_evaluator = val_evaluator
