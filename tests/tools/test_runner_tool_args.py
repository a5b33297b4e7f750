"""Argument handling of tools/test.py and tools/train.py: --cfg-options address the config's
own keys even when --dump appends mmengine's DumpResults to the evaluators, keys that nothing
reads are refused, --resume says when there is nothing to resume."""
import argparse
import importlib.util
from pathlib import Path

import pytest
from mmengine.config import Config

from postometro_mm.utils.runner_args import merge_cfg_options

TOOLS = Path(__file__).resolve().parents[2] / 'tools'


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(f'postometro_{name}_tool', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def test_tool():
    return _load_tool('test')


@pytest.fixture(scope='module')
def train_tool():
    return _load_tool('train')


def _test_args(**kwargs):
    defaults = dict(checkpoint='model.pth', show=False, show_dir=None, interval=1, dump=None,
                    cfg_options=None)
    return argparse.Namespace(**dict(defaults, **kwargs))


def test_cfg_options_apply_before_dump_wraps_the_evaluator(test_tool):
    cfg = Config(dict(test_evaluator=dict(type='MeshMetric', prefix='test')))
    merged = test_tool.merge_args(cfg, _test_args(dump='preds.pkl',
                                             cfg_options={'test_evaluator.prefix': 'occ'}))
    assert merged.load_from == 'model.pth'
    assert [e['type'] for e in merged.test_evaluator] == ['MeshMetric', 'DumpResults']
    assert merged.test_evaluator[0]['prefix'] == 'occ'
    assert merged.test_evaluator[1]['out_file_path'] == 'preds.pkl'


def test_dump_keeps_a_list_of_evaluators_and_checks_the_suffix(test_tool):
    cfg = Config(dict(test_evaluator=[dict(type='MeshMetric'), dict(type='PCKAccuracy')]))
    merged = test_tool.merge_args(cfg, _test_args(dump='preds.pickle'))
    assert [e['type'] for e in merged.test_evaluator] == ['MeshMetric', 'PCKAccuracy',
                                                          'DumpResults']
    with pytest.raises(ValueError, match='preds.json'):
        test_tool.merge_args(Config(dict(test_evaluator=dict(type='MeshMetric'))),
                             _test_args(dump='preds.json'))


def _train_args(**kwargs):
    defaults = dict(amp=False, resume=None, no_validate=False, auto_scale_lr=False,
                    cfg_options=None)
    return argparse.Namespace(**dict(defaults, **kwargs))


def _config(work_dir) -> Config:
    return Config(dict(work_dir=str(work_dir), train_cfg=dict(max_iters=10),
                       model=dict(type='MeshEstimator')))


def test_resume_without_a_checkpoint_says_so_and_starts_from_scratch(train_tool, tmp_path,
                                                                     capsys):
    cfg = train_tool.merge_args(_config(tmp_path), _train_args(resume='auto'))
    assert cfg.resume is False and cfg.load_from is None
    assert f'no checkpoint in {tmp_path}' in capsys.readouterr().err

    (tmp_path / 'iter_5.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_5.pth'))
    cfg = train_tool.merge_args(_config(tmp_path), _train_args(resume='auto'))
    assert cfg.resume is True and cfg.load_from is None  # mmengine finds iter_5.pth

    cfg = train_tool.merge_args(_config(tmp_path), _train_args(resume=str(tmp_path / 'iter_5.pth')))
    assert cfg.resume is True and cfg.load_from == str(tmp_path / 'iter_5.pth')
    with pytest.raises(FileNotFoundError, match='iter_9.pth: no such checkpoint'):
        train_tool.merge_args(_config(tmp_path), _train_args(resume=str(tmp_path / 'iter_9.pth')))


def test_unknown_top_level_cfg_options_are_refused(tmp_path):
    cfg = _config(tmp_path)
    with pytest.raises(ValueError, match=r"trian_cfg\.max_iters.*did you mean 'train_cfg'"):
        merge_cfg_options(cfg, {'trian_cfg.max_iters': 2})
    assert cfg.train_cfg.max_iters == 10
    # the config's own keys, nested new keys and the keys mmengine's Runner reads are fine
    merge_cfg_options(cfg, {'train_cfg.max_iters': 2, 'model.neck.num_blocks': 1,
                            'load_from': 'x.pth', 'randomness.seed': 0})
    assert cfg.train_cfg.max_iters == 2 and cfg.model.neck.num_blocks == 1
    assert cfg.load_from == 'x.pth' and cfg.randomness.seed == 0
