"""tools/train.py's argument handling: --resume says when there is nothing to resume,
--cfg-options refuses keys that nothing reads (both tools)."""
import argparse
import importlib.util
from pathlib import Path

import pytest
from mmengine.config import Config

from postometro_mm.utils.runner_args import merge_cfg_options

TOOLS = Path(__file__).resolve().parents[2] / 'tools'


@pytest.fixture(scope='module')
def train_tool():
    spec = importlib.util.spec_from_file_location('postometro_train_tool', TOOLS / 'train.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _args(**kwargs):
    defaults = dict(amp=False, resume=None, no_validate=False, auto_scale_lr=False,
                    cfg_options=None)
    return argparse.Namespace(**dict(defaults, **kwargs))


def _config(work_dir) -> Config:
    return Config(dict(work_dir=str(work_dir), train_cfg=dict(max_iters=10),
                       model=dict(type='MeshEstimator')))


def test_resume_without_a_checkpoint_says_so_and_starts_from_scratch(train_tool, tmp_path,
                                                                     capsys):
    cfg = train_tool.merge_args(_config(tmp_path), _args(resume='auto'))
    assert cfg.resume is False and cfg.load_from is None
    assert f'no checkpoint in {tmp_path}' in capsys.readouterr().err

    (tmp_path / 'iter_5.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_5.pth'))
    cfg = train_tool.merge_args(_config(tmp_path), _args(resume='auto'))
    assert cfg.resume is True and cfg.load_from is None  # mmengine finds iter_5.pth

    cfg = train_tool.merge_args(_config(tmp_path), _args(resume=str(tmp_path / 'iter_5.pth')))
    assert cfg.resume is True and cfg.load_from == str(tmp_path / 'iter_5.pth')
    with pytest.raises(FileNotFoundError, match='iter_9.pth: no such checkpoint'):
        train_tool.merge_args(_config(tmp_path), _args(resume=str(tmp_path / 'iter_9.pth')))


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
