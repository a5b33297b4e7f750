"""Train a postometro_mm model with MMEngine's Runner.

Usage:
    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v ...]
    mim train postometro_mm CONFIG [--gpus N --launcher pytorch] ...
"""
import argparse
import os.path as osp
import sys

# Run from a source checkout, the script uses that checkout's package (not an installed copy);
# installed under postometro_mm/.mim/tools (mim), it uses the installed package.
_REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if osp.isfile(osp.join(_REPO, 'postometro_mm', '__init__.py')):
    sys.path.insert(0, _REPO)

from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from postometro_mm.utils.cli import error_message  # noqa: E402
from postometro_mm.utils.runner_args import (  # noqa: E402
    add_runner_args, load_config, merge_cfg_options)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a postometro_mm model')
    parser.add_argument('config', help='train config file path')
    add_runner_args(parser)
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in the work dir '
        'when no path is given')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision training')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip validation during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the total batch size')
    return parser.parse_args()


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        from mmengine.runner import find_latest_checkpoint
        cfg.load_from = None
        cfg.resume = find_latest_checkpoint(cfg.work_dir) is not None
        if not cfg.resume:
            print(f'--resume: no checkpoint in {cfg.work_dir} (no last_checkpoint file): '
                  'training starts from scratch', file=sys.stderr)
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume {args.resume}: no such checkpoint file')
        cfg.resume = True
        cfg.load_from = args.resume
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', {})['enable'] = True
    merge_cfg_options(cfg, args.cfg_options)
    return cfg


def main() -> None:
    args = parse_args()
    try:
        cfg = merge_args(load_config(args), args)
    except (KeyError, FileNotFoundError, ValueError) as err:
        raise SystemExit(f'tools/train.py: error: {error_message(err)}') from None
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
