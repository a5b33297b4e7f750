"""Mixed training over several mesh datasets with mmpose/mmengine's wrappers and samplers."""
import numpy as np
from mmengine.dataset import ConcatDataset
from mmpose.datasets import CombinedDataset
from mmpose.registry import DATA_SAMPLERS
from test_spin_npz_dataset import TRAIN_PIPELINE

from postometro_mm.datasets.base_mesh_dataset import coco17_metainfo_file


def source_cfgs(spin_npz_set, metro_tsv_set, pipeline=()):
    return [
        dict(type='SPINNpzDataset', ann_file=spin_npz_set['path'],
             data_prefix=dict(img=spin_npz_set['root']), pipeline=list(pipeline)),
        dict(type='METROTSVDataset', ann_file=metro_tsv_set['composite_yaml'],
             pipeline=list(pipeline)),
    ]


def test_combined_dataset_with_source_ratios(spin_npz_set, metro_tsv_set):
    np.random.seed(0)
    dataset = CombinedDataset(metainfo=dict(from_file=coco17_metainfo_file()),
                              datasets=source_cfgs(spin_npz_set, metro_tsv_set),
                              pipeline=TRAIN_PIPELINE)
    assert len(dataset) == 5 + 3
    first, last = dataset[0], dataset[len(dataset) - 1]
    assert first['data_samples'].metainfo['dataset_name'] == 'spin_npz'
    assert last['data_samples'].metainfo['dataset_name'] == 'metro_tsv'
    assert last['inputs'].shape == (3, 256, 256)

    sampler = DATA_SAMPLERS.build(dict(type='MultiSourceSampler', dataset=dataset, batch_size=4,
                                       source_ratio=[1, 3], seed=0))
    indices = list(sampler)
    assert len(indices) == 8
    for batch in np.reshape(indices, (-1, 4)):
        sources = (batch >= 5).astype(int)            # TSV indices follow the 5 npz records
        assert sorted(sources.tolist()) == [0, 1, 1, 1]


def test_concat_dataset_counts_every_sample_once(spin_npz_set, metro_tsv_set):
    pipeline = [dict(type='LoadMeshImage'), dict(type='MeshTopdownAffine'),
                dict(type='PackMeshInputs')]
    dataset = ConcatDataset(datasets=source_cfgs(spin_npz_set, metro_tsv_set, pipeline),
                            ignore_keys=['dataset_name'])
    sampler = DATA_SAMPLERS.build(dict(type='DefaultSampler', dataset=dataset, shuffle=False,
                                       round_up=False))
    names = [dataset[i]['data_samples'].metainfo['img_path'] for i in sampler]
    assert len(names) == len(set(names)) == 8
