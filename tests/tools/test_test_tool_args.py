"""tools/test.py's argument handling: --cfg-options address the config's own keys even when
--dump appends mmengine's DumpResults to the evaluators."""
import argparse
import importlib.util
from pathlib import Path

import pytest
from mmengine.config import Config

TOOLS = Path(__file__).resolve().parents[2] / 'tools'


@pytest.fixture(scope='module')
def test_tool():
    spec = importlib.util.spec_from_file_location('postometro_test_tool', TOOLS / 'test.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(**kwargs):
    defaults = dict(checkpoint='model.pth', show=False, show_dir=None, interval=1, dump=None,
                    cfg_options=None)
    return argparse.Namespace(**dict(defaults, **kwargs))


def test_cfg_options_apply_before_dump_wraps_the_evaluator(test_tool):
    cfg = Config(dict(test_evaluator=dict(type='MeshMetric', prefix='test')))
    merged = test_tool.merge_args(cfg, _args(dump='preds.pkl',
                                             cfg_options={'test_evaluator.prefix': 'occ'}))
    assert merged.load_from == 'model.pth'
    assert [e['type'] for e in merged.test_evaluator] == ['MeshMetric', 'DumpResults']
    assert merged.test_evaluator[0]['prefix'] == 'occ'
    assert merged.test_evaluator[1]['out_file_path'] == 'preds.pkl'


def test_dump_keeps_a_list_of_evaluators_and_checks_the_suffix(test_tool):
    cfg = Config(dict(test_evaluator=[dict(type='MeshMetric'), dict(type='PCKAccuracy')]))
    merged = test_tool.merge_args(cfg, _args(dump='preds.pickle'))
    assert [e['type'] for e in merged.test_evaluator] == ['MeshMetric', 'PCKAccuracy',
                                                          'DumpResults']
    with pytest.raises(ValueError, match='preds.json'):
        test_tool.merge_args(Config(dict(test_evaluator=dict(type='MeshMetric'))),
                             _args(dump='preds.json'))
