# 3DPW-TEST from METRO / FastMETRO's TSV files (test_has_gender: gendered SMPL labels), for
# users of mesh_mixed_train_tsv.py. Expected: data/metro_tsv/3dpw/{test_has_gender.yaml,
# has_gender/test.{img,hw,label,linelist}.tsv}.
_base_ = ['./mesh_eval_defaults.py']

eval_data_root = 'data/metro_tsv/'

val_dataloader = dict(
    dataset=dict(
        type='METROTSVDataset',
        data_root=eval_data_root,
        ann_file='3dpw/test_has_gender.yaml',
        metainfo=dict(dataset_name='3dpw')))
test_dataloader = val_dataloader

val_evaluator = dict(prefix='3dpw')
test_evaluator = val_evaluator
