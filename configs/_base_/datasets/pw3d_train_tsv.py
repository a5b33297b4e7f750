# 3DPW-train from METRO / FastMETRO's TSV files (their fine-tuning set), under the same TSV root
# as mesh_mixed_train_tsv.py. Expected: data/metro_tsv/3dpw/{train.img.tsv, train.hw.tsv,
# train.label.tsv, train.linelist.tsv, train.yaml}.
_base_ = ['./mesh_mixed_train_tsv.py']

train_dataloader = dict(
    dataset=dict(ann_file='3dpw/train.yaml', metainfo=dict(dataset_name='3dpw')))
