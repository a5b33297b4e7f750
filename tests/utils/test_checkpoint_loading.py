"""Checkpoints load weights-only with an allow-list: mmengine's own contents load, a crafted
file runs no code and is refused with its name and class, ``--unsafe-load`` opts in."""
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

import postometro_mm  # noqa: F401  (registers the checkpoint loader of local files)
from crafted_pickles import RunsCode

from postometro_mm.utils.checkpoint_loading import (CheckpointReadError, UnsafeCheckpointError,
                                                    allow_unsafe_checkpoints,
                                                    load_checkpoint_file)


def _mmengine_like_checkpoint() -> dict:
    """What mmengine's ``Runner.save_checkpoint`` writes: tensors, numpy values in ``meta``,
    history buffers in the message hub, optimizer and scheduler state dicts."""
    buffer = HistoryBuffer()
    buffer.update(0.5)
    buffer.update(0.25, count=2)
    return dict(
        meta=dict(epoch=3, iter=120, seed=np.int64(7), time='20261204_120000',
                  dataset_meta=dict(flip_indices=np.arange(4), sigmas=np.ones(3, np.float32),
                                    name='x', mask=np.array([True, False]))),
        state_dict=OrderedDict(w=torch.randn(3, 2), b=torch.zeros(2)),
        message_hub=dict(log_scalars={'train/loss': buffer},
                         runtime_info=dict(iter=120, lr=np.float64(1e-3)), resumed_keys={}),
        optimizer=dict(state={0: dict(step=torch.tensor(5.0), exp_avg=torch.ones(3, 2))},
                       param_groups=[dict(lr=1e-3, betas=(0.9, 0.999), params=[0])]),
        param_schedulers=[dict(last_step=120, base_values=[1e-3])])


def test_mmengine_checkpoint_contents_load_weights_only(tmp_path):
    path = tmp_path / 'iter_120.pth'
    saved = _mmengine_like_checkpoint()
    torch.save(saved, path)
    for loaded in (load_checkpoint_file(str(path)),
                   CheckpointLoader.load_checkpoint(str(path), map_location='cpu')):
        assert torch.equal(loaded['state_dict']['w'], saved['state_dict']['w'])
        assert loaded['meta']['seed'] == 7 and loaded['meta']['seed'].dtype == np.int64
        meta = loaded['meta']['dataset_meta']
        assert np.array_equal(meta['flip_indices'], np.arange(4))
        assert meta['sigmas'].dtype == np.float32 and meta['mask'].dtype == bool
        buffer = loaded['message_hub']['log_scalars']['train/loss']
        assert isinstance(buffer, HistoryBuffer) and buffer.mean() == pytest.approx(0.25)
        assert loaded['optimizer']['param_groups'][0]['betas'] == (0.9, 0.999)


def test_history_buffers_load_in_a_fresh_process(tmp_path):
    # where no HistoryBuffer was made yet, its default statistics are not registered
    path = tmp_path / 'iter_120.pth'
    torch.save(_mmengine_like_checkpoint(), path)
    code = ('from postometro_mm.utils.checkpoint_loading import load_checkpoint_file; '
            f'c = load_checkpoint_file({str(path)!r}); '
            "print(c['message_hub']['log_scalars']['train/loss'].mean())")
    proc = subprocess.run([sys.executable, '-c', code], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout
    assert float(proc.stdout.strip().splitlines()[-1]) == pytest.approx(0.25)


def test_a_crafted_checkpoint_runs_no_code(tmp_path):
    marker = tmp_path / 'executed'
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(1)), meta=RunsCode(marker)), path)
    for load in (lambda: load_checkpoint_file(str(path)),
                 lambda: CheckpointLoader.load_checkpoint(str(path), map_location='cpu')):
        with pytest.raises(UnsafeCheckpointError) as info:
            load()
        assert str(path) in str(info.value) and 'system' in str(info.value)
        assert '--unsafe-load' in str(info.value)
    assert not marker.exists()


def test_unsafe_load_is_an_explicit_opt_in(tmp_path):
    path = tmp_path / 'legacy.pth'
    torch.save(dict(state_dict=OrderedDict(w=torch.ones(1)), extra=_LegacyObject()), path)
    with pytest.raises(UnsafeCheckpointError, match='_LegacyObject'):
        load_checkpoint_file(str(path))
    assert isinstance(load_checkpoint_file(str(path), unsafe=True)['extra'], _LegacyObject)
    allow_unsafe_checkpoints()
    try:
        assert isinstance(CheckpointLoader.load_checkpoint(str(path))['extra'], _LegacyObject)
    finally:
        allow_unsafe_checkpoints(False)
    with pytest.raises(UnsafeCheckpointError):
        CheckpointLoader.load_checkpoint(str(path))


class _LegacyObject:
    """A class a trusted legacy checkpoint may hold (not on the allow-list)."""


def test_truncated_and_missing_checkpoints_name_the_file(tmp_path):
    path = tmp_path / 'truncated.pth'
    torch.save(_mmengine_like_checkpoint(), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointReadError, match=r'truncated\.pth: cannot be read'):
        load_checkpoint_file(str(path))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))
