"""The plugin is installable and its configs and tools are where mim looks for them."""
import os
import os.path as osp
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)


def test_config_basenames_are_unique():
    """mim finds a config by its basename anywhere in the package: names must not collide."""
    counts = Counter(p.name for p in CONFIGS)
    assert [n for n, c in counts.items() if c > 1] == []


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.name)
def test_config_parses(config):
    cfg = Config.fromfile(str(config))
    assert cfg.default_scope == 'mmpose'
    assert 'postometro_mm' in cfg.custom_imports['imports']
    assert {'model', 'train_dataloader', 'test_dataloader'} <= set(cfg.keys())


def test_installed_package_carries_mim_folder(tmp_path):
    """`make env` installs the plugin non-editable; mim resolves tools and configs from .mim."""
    # Resolve as the `mim` command does, outside the checkout (whose folder would shadow it).
    out = subprocess.run(
        [sys.executable, '-c',
         'from mim.utils import get_installed_path; print(get_installed_path("postometro_mm"))'],
        cwd=tmp_path, capture_output=True, text=True, check=True,
        env={k: v for k, v in os.environ.items() if k != 'PYTHONPATH'})
    root = Path(out.stdout.strip().splitlines()[-1])
    assert (root / '.mim' / 'tools' / 'train.py').is_file()
    assert (root / '.mim' / 'tools' / 'test.py').is_file()
    installed = {p.relative_to(root / '.mim' / 'configs')
                 for p in (root / '.mim' / 'configs').rglob('*.py')}
    in_repo = {p.relative_to(REPO / 'configs') for p in (REPO / 'configs').rglob('*.py')}
    assert in_repo <= installed, f'reinstall with `make env`: missing {in_repo - installed}'
    assert osp.realpath(root) != osp.realpath(REPO / 'postometro_mm')
