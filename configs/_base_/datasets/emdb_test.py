# EMDB 1 (the single-image test set of VQ-HPS and other methods): every good frame with a valid
# box of the EMDB-1 sequences, gendered ground-truth meshes. Annotation file written by
#   python tools/dataset_converters/emdb_converter.py data/EMDB data/EMDB/annotations \
#       --body-model-dir data/body_models/smpl \
#       --j-regressor-extra data/body_models/J_regressor_extra.npy
# Expected tree (EMDB's release + the converter's output):
#   data/EMDB/
#   ├── P0 ... P9/<sequence>/{images/%05d.jpg, P<k>_<sequence>_data.pkl}
#   └── annotations/emdb_emdb1.npz
_base_ = ['./mesh_eval_defaults.py']

val_dataloader = dict(
    dataset=dict(
        type='EMDBDataset',
        data_root='data/EMDB/',
        ann_file='annotations/emdb_emdb1.npz',
        data_prefix=dict(img='')))
test_dataloader = val_dataloader

val_evaluator = dict(prefix='emdb')
test_evaluator = val_evaluator
