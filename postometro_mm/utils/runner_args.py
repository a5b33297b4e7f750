"""Command-line arguments shared by ``tools/train.py`` and ``tools/test.py``."""
import argparse
import difflib
import inspect
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config, DictAction

from .checkpoint_loading import allow_unsafe_checkpoints


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--unsafe-load``, ``--launcher`` and
    ``--local-rank``."""
    parser.add_argument('--work-dir', help='directory for logs and checkpoints')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. train_cfg.max_epochs=2 (lists as a=[1,2])')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='unpickle checkpoints in full, also classes off the allow-list '
                        '(only for files you trust: loading them can run code)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """Read ``args.config`` and apply the shared arguments (``--cfg-options`` last, by the caller).

    ``--unsafe-load`` lets every checkpoint load of the process unpickle in full
    (:func:`~postometro_mm.utils.checkpoint_loading.allow_unsafe_checkpoints`). The work dir
    defaults to ``./work_dirs/<config name>`` as in mmpose. ``LOCAL_RANK`` is set
    from ``--local-rank`` for launchers that pass it as an argument (torch.distributed.launch).
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.unsafe_load:
        allow_unsafe_checkpoints()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def merge_cfg_options(cfg: Config, cfg_options: Optional[dict]) -> Config:
    """Merge ``--cfg-options`` into ``cfg``, refusing a top-level key that neither the config
    nor mmengine's ``Runner`` knows (mmengine would ignore it silently, e.g. a misspelt
    ``trian_cfg.max_iters``).

    Raises:
        ValueError: names the key and the closest existing ones.
    """
    if not cfg_options:
        return cfg
    from mmengine.runner import Runner
    known = set(cfg.keys()) | set(inspect.signature(Runner.__init__).parameters) - {'self'}
    for key in cfg_options:
        top = key.split('.')[0]
        if top not in known:
            close = difflib.get_close_matches(top, sorted(known), n=3)
            hint = f'; did you mean {" or ".join(repr(c) for c in close)}?' if close else ''
            raise ValueError(f'--cfg-options {key}: the config has no "{top}" and mmengine\'s '
                           f'Runner does not read it{hint}')
    cfg.merge_from_dict(cfg_options)
    return cfg
