"""The dataset base configs: load, compose, and build every dataset, sampler and evaluator on
tiny fixture sets (paths rewritten with cfg overrides, as ``--cfg-options`` would)."""
import os
import os.path as osp
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmpose.registry import DATASETS, DATA_SAMPLERS, METRICS

from postometro_mm.datasets.converters import convert_oh3d, convert_pw3d

REPO_ROOT = Path(__file__).resolve().parents[2]
DATASET_CONFIGS = REPO_ROOT / 'configs' / '_base_' / 'datasets'
BODY_MODEL_PATHS = REPO_ROOT / 'configs' / '_base_' / 'body_model_paths.py'
TRAIN_CONFIGS = ('mesh_mixed_train', 'mesh_mixed_train_tsv', 'pw3d_train', 'pw3d_train_tsv',
                 'oh3d_train')
EVAL_CONFIGS = {'pw3d_test': '3dpw', 'pw3d_occ': '3dpw-occ', 'pw3d_pc': '3dpw-pc',
                'pw3d_test_tsv': '3dpw', 'oh3d_test': '3doh'}
#: (training set, evaluation set) pairs that final configs inherit side by side
PAIRS = (('mesh_mixed_train', 'pw3d_test'), ('mesh_mixed_train', 'pw3d_occ'),
         ('mesh_mixed_train', 'pw3d_pc'), ('pw3d_train', 'pw3d_test'),
         ('oh3d_train', 'oh3d_test'), ('mesh_mixed_train_tsv', 'pw3d_test_tsv'),
         ('pw3d_train_tsv', 'pw3d_test_tsv'))
#: FastMETRO's training augmentation (SPEC §4.6), written out independently
FASTMETRO_AUGMENTATION = {
    'MeshRandomScale': dict(std=0.25, clip=(0.75, 1.25)),
    'MeshRandomRotation': dict(std=30.0, max_angle=60.0, zero_prob=0.6),
    'MeshPixelNoise': dict(noise_factor=0.4),
    'MeshRandomFlip': dict(prob=0.5),
}


def load(name: str) -> Config:
    return Config.fromfile(str(DATASET_CONFIGS / f'{name}.py'))


def first_image_exists(root: str, ann_file: str) -> None:
    """Write a small image for the first record of a converted npz (3DPW has no images here)."""
    imgname = str(np.load(ann_file)['imgname'][0])
    path = osp.join(root, imgname)
    os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.full((240, 320, 3), 60, np.uint8))


@pytest.fixture(scope='module')
def pw3d_data(pw3d_root, tmp_path_factory) -> str:
    """A 3DPW data root in the layout of pw3d_test.py: annotations/ + imageFiles/."""
    root = str(tmp_path_factory.mktemp('pw3d_data_root'))
    convert_pw3d(pw3d_root['root'], osp.join(root, 'annotations'), progress=False)
    for name in ('train', 'test', 'occ', 'pc'):
        first_image_exists(root, osp.join(root, 'annotations', f'pw3d_{name}.npz'))
    return root


@pytest.fixture(scope='module')
def oh3d_ann_file(oh3d_root, tmp_path_factory) -> str:
    out_dir = str(tmp_path_factory.mktemp('oh3d_annotations'))
    convert_oh3d(oh3d_root['root'], out_dir, splits=('test', ), progress=False)
    return osp.join(out_dir, 'oh3d_test.npz')


@pytest.fixture(scope='module')
def overrides(pw3d_data, oh3d_ann_file, oh3d_root, spin_npz_set, metro_tsv_set):
    """Per config: the ``--cfg-options``-style overrides pointing it to the fixture sets."""
    spin = dict(data_root=spin_npz_set['root'], ann_file='spin_style.npz',
                data_prefix=dict(img=''))
    tsv_root = metro_tsv_set['root']
    mixed_sources = [spin, dict(data_root=tsv_root, ann_file='set_a/train.yaml'),
                     dict(data_root=tsv_root, ann_file='set_b/train.yaml'), spin, spin]
    mixed = {f'train_dataloader.dataset.datasets.{i}.{key}': value
             for i, source in enumerate(mixed_sources) for key, value in source.items()}
    return {
        'mesh_mixed_train': mixed,
        'mesh_mixed_train_tsv': {'train_dataloader.dataset.data_root': tsv_root,
                                 'train_dataloader.dataset.ann_file': 'composite/train.yaml'},
        'pw3d_train': {'train_dataloader.dataset.data_root': pw3d_data},
        'pw3d_train_tsv': {'train_dataloader.dataset.data_root': tsv_root,
                           'train_dataloader.dataset.ann_file': 'set_b/train.yaml'},
        'oh3d_train': {'train_dataloader.dataset.data_root': oh3d_root['root'],
                       'train_dataloader.dataset.ann_file': oh3d_ann_file},
        'pw3d_test': {'val_dataloader.dataset.data_root': pw3d_data},
        'pw3d_occ': {'val_dataloader.dataset.data_root': pw3d_data},
        'pw3d_pc': {'val_dataloader.dataset.data_root': pw3d_data},
        'pw3d_test_tsv': {'val_dataloader.dataset.data_root': tsv_root,
                          'val_dataloader.dataset.ann_file': 'set_a/train.yaml'},
        'oh3d_test': {'val_dataloader.dataset.data_root': oh3d_root['root'],
                      'val_dataloader.dataset.ann_file': oh3d_ann_file},
    }


def build(name: str, overrides: dict, loader: str):
    cfg = load(name)
    cfg.merge_from_dict(overrides[name])
    return cfg, DATASETS.build(cfg[loader].dataset)


def check_sample(sample: dict, dataset_name: str) -> None:
    assert sample['inputs'].shape == (3, 256, 256)
    meta = sample['data_samples'].metainfo
    assert meta['dataset_name'] == dataset_name
    assert tuple(meta['input_size']) == (256, 256)
    labels = sample['data_samples'].gt_instance_labels
    assert labels.joints_2d.shape == (1, 24, 3) and labels.smpl_pose.shape == (1, 72)


def test_training_pipeline_is_fastmetro_augmentation_with_crop_before_flip():
    for name in TRAIN_CONFIGS:
        cfg = load(name)
        pipeline = cfg.train_dataloader.dataset.pipeline
        types = [t['type'] for t in pipeline]
        assert types[0] == 'LoadMeshImage' and types[-1] == 'PackMeshInputs'
        assert types.index('MeshTopdownAffine') < types.index('MeshRandomFlip')
        assert pipeline[types.index('MeshTopdownAffine')]['input_size'] == (256, 256)
        for transform, args in FASTMETRO_AUGMENTATION.items():
            assert {k: pipeline[types.index(transform)][k] for k in args} == args, name
        assert pipeline[types.index('RandomOcclusion')]['prob'] == 0.0    # off by default
        assert cfg.train_dataloader.batch_size == 32


def test_evaluation_loaders_count_every_sample_once():
    for name, prefix in EVAL_CONFIGS.items():
        cfg = load(name)
        for loader in ('val_dataloader', 'test_dataloader'):
            assert cfg[loader].sampler == dict(type='DefaultSampler', shuffle=False,
                                               round_up=False)
            assert cfg[loader].dataset.test_mode is True
            types = [t['type'] for t in cfg[loader].dataset.pipeline]
            assert types == ['LoadMeshImage', 'MeshTopdownAffine', 'PackMeshInputs']
        for evaluator in ('val_evaluator', 'test_evaluator'):
            assert cfg[evaluator].type == 'MeshMetric'
            assert cfg[evaluator].prefix == prefix
            assert list(cfg[evaluator].protocols) == ['A', 'B']


@pytest.mark.parametrize('train_name,eval_name', PAIRS)
def test_training_and_evaluation_bases_compose_with_the_body_model_paths(
        tmp_path, train_name, eval_name):
    final = tmp_path / 'final_config.py'
    final.write_text(
        f'_base_ = [{str(DATASET_CONFIGS / (train_name + ".py"))!r},\n'
        f'          {str(DATASET_CONFIGS / (eval_name + ".py"))!r},\n'
        f'          {str(BODY_MODEL_PATHS)!r}]\n'
        'val_evaluator = dict(\n'
        '    body_model=dict(type="GenderedSMPL", model_path=_base_.smpl_model_dir),\n'
        '    joint_regressor=_base_.j_regressor_h36m)\n'
        'test_evaluator = val_evaluator\n')
    cfg = Config.fromfile(str(final))   # raises on a key defined by two of the bases
    paths = Config.fromfile(str(BODY_MODEL_PATHS))
    for evaluator in ('val_evaluator', 'test_evaluator'):
        assert cfg[evaluator].body_model.model_path == paths.smpl_model_dir
        assert cfg[evaluator].joint_regressor == paths.j_regressor_h36m
        assert cfg[evaluator].prefix == EVAL_CONFIGS[eval_name]
    assert cfg.train_dataloader.dataset.pipeline[-1]['type'] == 'PackMeshInputs'


def test_mixed_training_set_and_source_ratios(overrides, spin_npz_set, metro_tsv_set):
    np.random.seed(0)
    cfg, dataset = build('mesh_mixed_train', overrides, 'train_dataloader')
    names = ['h36m', 'muco', 'up3d', 'coco', 'mpii']
    sizes = [5, 3, 3, 5, 5]        # 5 npz records; 3 line-listed rows per TSV set
    assert dataset.lens == sizes
    starts = np.cumsum([0] + sizes)
    for source, name in enumerate(names):
        check_sample(dataset[int(starts[source])], name)

    sampler_cfg = cfg.train_dataloader.sampler
    assert sampler_cfg.batch_size == cfg.train_dataloader.batch_size == 32
    sampler = DATA_SAMPLERS.build(sampler_cfg, default_args=dict(dataset=dataset, seed=0))
    batch = np.array(list(sampler)[:32])
    counts = np.bincount(np.searchsorted(starts, batch, side='right') - 1, minlength=5)
    ratio = np.asarray(sampler_cfg.source_ratio, dtype=float)
    np.testing.assert_allclose(counts, 32 * ratio / ratio.sum(), atol=1)


@pytest.mark.parametrize('name,expected', [
    ('mesh_mixed_train_tsv', dict(length=3, dataset_name='metro_tsv')),
    ('pw3d_train', dict(annotation='pw3d_train.npz', dataset_name='3dpw')),
    ('pw3d_train_tsv', dict(length=3, dataset_name='3dpw')),
    ('oh3d_train', dict(length=4, dataset_name='3doh')),
])
def test_training_sets_build_and_run_the_pipeline(overrides, pw3d_data, name, expected):
    np.random.seed(0)
    _, dataset = build(name, overrides, 'train_dataloader')
    if 'annotation' in expected:
        expected['length'] = len(np.load(osp.join(pw3d_data, 'annotations',
                                                  expected['annotation']))['imgname'])
    assert len(dataset) == expected['length']
    check_sample(dataset[0], expected['dataset_name'])


@pytest.mark.parametrize('name,expected', [
    ('pw3d_test', dict(annotation='pw3d_test.npz', dataset_name='3dpw')),
    ('pw3d_occ', dict(annotation='pw3d_occ.npz', dataset_name='3dpw')),
    ('pw3d_pc', dict(annotation='pw3d_pc.npz', dataset_name='3dpw')),
    ('pw3d_test_tsv', dict(length=3, dataset_name='3dpw')),
    ('oh3d_test', dict(length=4, dataset_name='3doh')),
])
def test_evaluation_sets_and_metrics_build(overrides, pw3d_data, synthetic_body_model, name,
                                           expected):
    cfg, dataset = build(name, overrides, 'val_dataloader')
    if 'annotation' in expected:
        ann = np.load(osp.join(pw3d_data, 'annotations', expected['annotation']))
        expected['length'] = len(ann['imgname'])
        assert dataset.get_data_info(0)['img_path'].endswith(str(ann['imgname'][0]))
    assert len(dataset) == expected['length'] > 0
    check_sample(dataset[0], expected['dataset_name'])
    assert dataset[0]['data_samples'].metainfo['flip'] is False

    # a final config completes the evaluator with the body-model paths (here the fixtures')
    cfg.merge_from_dict({
        'test_evaluator.body_model': dict(type='GenderedSMPL',
                                          model_path=synthetic_body_model['model_dir']),
        'test_evaluator.joint_regressor': synthetic_body_model['j_regressor_h36m']})
    metric = METRICS.build(cfg.test_evaluator)
    assert metric.prefix == EVAL_CONFIGS[name]
    assert metric.protocols == ('A', 'B')
