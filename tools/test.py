"""Evaluate a postometro_mm checkpoint with MMEngine's Runner.

Usage:
    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--show-dir DIR] [--dump FILE]
    mim test postometro_mm CONFIG --checkpoint CHECKPOINT [--gpus N --launcher pytorch]

The checkpoint must fit the config's model exactly (as for ``init_model``): missing,
unexpected or differently shaped parameters stop the run with a list of them, unless
``--allow-partial-load``.
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
    parser = argparse.ArgumentParser(description='Evaluate a postometro_mm checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    add_runner_args(parser)
    parser.add_argument('--out', help='dump the metric results to this json/pkl file')
    parser.add_argument('--dump', help='dump every prediction to this pickle file')
    parser.add_argument('--show-dir', help='draw predictions into this folder (under work_dir)')
    parser.add_argument('--show', action='store_true', help='show predictions in a window')
    parser.add_argument('--interval', type=int, default=1, help='draw every N-th sample')
    parser.add_argument('--allow-partial-load', action='store_true',
                        help='evaluate even if the checkpoint does not fit the model exactly '
                        '(missing parameters keep their initial values)')
    return parser.parse_args()


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    # --cfg-options first: it addresses the config's own keys (e.g. test_evaluator.prefix),
    # before --dump turns test_evaluator into a list.
    merge_cfg_options(cfg, args.cfg_options)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        hooks = cfg.default_hooks
        if 'visualization' not in hooks:
            raise KeyError(f'{args.config}: --show/--show-dir need a "visualization" entry in '
                           'default_hooks (mmpose PoseVisualizationHook)')
        hooks.visualization.enable = True
        hooks.visualization.show = args.show
        hooks.visualization.interval = args.interval
        if args.show_dir:
            hooks.visualization.out_dir = args.show_dir
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump must end with .pkl or .pickle, got "{args.dump}"')
        evaluator = cfg.test_evaluator
        dump = dict(type='DumpResults', out_file_path=args.dump)
        cfg.test_evaluator = ([*evaluator, dump] if isinstance(evaluator, (list, tuple))
                              else [evaluator, dump])
    return cfg


def check_checkpoint_fits(runner: Runner, checkpoint: str, config: str) -> None:
    """Raise ``CheckpointMismatchError`` (listing missing, unexpected and differently shaped
    parameters) unless ``checkpoint`` fits the runner's model exactly."""
    from mmengine.model import is_model_wrapper

    from postometro_mm.utils.checkpoint_loading import (check_state_dict, load_checkpoint_file,
                                                        model_state_dict)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    state_dict = model_state_dict(load_checkpoint_file(checkpoint, 'cpu'), checkpoint)
    check_state_dict(model, state_dict, checkpoint, config)


def main() -> None:
    args = parse_args()
    try:
        cfg = merge_args(load_config(args), args)
    except (KeyError, FileNotFoundError, ValueError) as err:
        raise SystemExit(f'tools/test.py: error: {error_message(err)}') from None
    runner = Runner.from_cfg(cfg)
    if not args.allow_partial_load:
        from postometro_mm.utils.checkpoint_loading import CheckpointMismatchError
        try:
            check_checkpoint_fits(runner, args.checkpoint, args.config)
        except CheckpointMismatchError as err:
            raise SystemExit(f'tools/test.py: error: {err}\n  (--allow-partial-load evaluates '
                             'it anyway)') from None
    metrics = runner.test()
    if args.out:
        from mmengine.fileio import dump
        dump(metrics, args.out)


if __name__ == '__main__':
    main()
