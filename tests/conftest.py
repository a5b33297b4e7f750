"""Shared pytest fixtures.

* ``reference_data_dir``: ``../shared/reference_data`` beside the repository (or the folder in
  ``$POSTOMETRO_MM_REFERENCE_DATA``); tests using it are skipped when it is absent.
* ``synthetic_body_model``: a small procedural SMPL-format body model written once per session
  (see :func:`postometro_mm.body_models.write_synthetic_body_model` for the returned dict).
* ``synthetic_body_model_real_size``: the same on SMPL's real topology (needs reference data).
* ``single_thread`` (autouse): every test runs with one intra-op torch thread.
"""
import os
from pathlib import Path
from typing import Any, Dict

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE_DATA_DIR = REPO_ROOT.parent / 'shared' / 'reference_data'


@pytest.fixture(autouse=True)
def single_thread():
    """One intra-op torch thread per test: the tests use tiny tensors, which run faster on one
    thread, and the (2-core) machine is shared with the suite's subprocesses."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def reference_data_dir() -> Path:
    """Folder with the SMPL-topology files and reference state-dict key lists."""
    folder = Path(os.environ.get('POSTOMETRO_MM_REFERENCE_DATA', DEFAULT_REFERENCE_DATA_DIR))
    if not folder.is_dir():
        pytest.skip(f'reference data folder {folder} not found (set '
                    'POSTOMETRO_MM_REFERENCE_DATA to its location)')
    return folder


@pytest.fixture(scope='session')
def synthetic_body_model(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """Small synthetic body model (about 1300 / 340 / 100 vertices), written once."""
    from postometro_mm.body_models import write_synthetic_body_model
    return write_synthetic_body_model(tmp_path_factory.mktemp('synthetic_body_model'))


@pytest.fixture(scope='session')
def synthetic_body_model_real_size(tmp_path_factory: pytest.TempPathFactory,
                                   reference_data_dir: Path) -> Dict[str, Any]:
    """Synthetic body model on SMPL's real topology (6890 / 1723 / 431 vertices)."""
    from postometro_mm.body_models import write_synthetic_body_model
    return write_synthetic_body_model(
        tmp_path_factory.mktemp('synthetic_body_model_real_size'),
        topology_dir=reference_data_dir / 'smpl_topology')


@pytest.fixture
def run_script(monkeypatch, capsys):
    """Run a tool as its command line does (``__main__``, ``sys.argv``); returns its exit
    status, the last line it wrote to stderr and its stdout."""
    import runpy
    import sys

    def run(script, *args):
        monkeypatch.setattr(sys, 'argv', [str(script), *map(str, args)])
        try:
            runpy.run_path(str(script), run_name='__main__')
            status = 0
        except SystemExit as done:
            status = done.code if isinstance(done.code, int) else (0 if done.code is None
                                                                   else 1)
            if isinstance(done.code, str):
                print(done.code, file=sys.stderr)
        captured = capsys.readouterr()
        err = captured.err.strip().splitlines()
        return status, err[-1] if err else '', captured.out

    return run
