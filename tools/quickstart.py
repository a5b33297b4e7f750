"""postometro_mm's quickstart: train and evaluate PostoMETRO end to end on a synthetic world,
on a CPU, with no download.

    make quickstart                  # full mode
    QUICK=1 make quickstart          # quick mode: smaller world, shorter trainings
    python tools/quickstart.py [--quick] [--work-dir DIR] [--force] [--verbose]

Stages: generate the synthetic world → heatmap pretraining of the image backbone → PCT
stage 1 (tokenizer) → PCT stage 2 (classifier) → PostoMETRO-S with pose tokens, the same model
without them, and an oracle fed the ground-truth 2D keypoints → tools/test.py on ``test`` and
``test_occluded`` → references without an image model (mean meshes, liftings of the
ground-truth 2D keypoints by ridge regression and by an MLP) →
``<work dir>/report.md`` (metric table, training curves, overlays). A rerun reuses
the stages that finished with the same inputs. Ctrl-C, SIGTERM or SIGHUP stop every running
stage within seconds (exit status 128 + the signal number); the stopped stages rerun next time.
"""
import argparse
import os
import os.path as osp
import sys
import warnings
from typing import List, Optional

# Run the checkout's package (also when an older copy is installed in the environment).
REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

DEFAULT_WORK_DIRS = dict(full='work_dirs/quickstart', quick='work_dirs/quickstart_quick')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train and evaluate PostoMETRO on a synthetic world (CPU, no download)',
        epilog='QUICK=1 in the environment selects --quick.')
    parser.add_argument('--quick', action='store_true',
                        help='quick mode: smaller world and shorter trainings')
    parser.add_argument('--work-dir', default=None,
                        help='output folder (default: work_dirs/quickstart, or '
                        'work_dirs/quickstart_quick in quick mode)')
    parser.add_argument('--force', action='store_true',
                        help='rerun every training and evaluation instead of reusing finished '
                        'ones (the world is regenerated only when its settings change)')
    parser.add_argument('--verbose', action='store_true',
                        help="stream the tools' logs instead of progress bars")
    parser.add_argument('--jobs', type=int, default=2,
                        help='trainings / evaluations run at the same time when independent '
                        '(default 2, one per core)')
    parser.add_argument('--threads', type=int, default=1,
                        help='intra-op threads of each training / test process (default 1)')
    args = parser.parse_args(argv)
    if os.environ.get('QUICK', '').strip() not in ('', '0'):
        args.quick = True
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    from mmengine.logging import MMLogger
    from postometro_mm.quickstart import run_quickstart
    from postometro_mm.quickstart.stages import Interrupted, stop_on_signals
    # The stages this process runs itself (world, baseline, report) log warnings only; the
    # tools' full logs are in each stage's folder.
    MMLogger.get_instance('quickstart', log_level='WARNING')
    mode = 'quick' if args.quick else 'full'
    work_dir = args.work_dir or osp.join(REPO_ROOT, DEFAULT_WORK_DIRS[mode])
    try:
        with stop_on_signals():
            return run_quickstart(work_dir, mode, force=args.force, verbose=args.verbose,
                                  jobs=args.jobs, threads=args.threads)
    except Interrupted as stop:
        stages = ', '.join(stop.stages) or 'none'
        print(f'\nquickstart interrupted by {stop.signal_name} (running stages: {stages}; '
              'stopped): a rerun reuses the finished stages', file=sys.stderr, flush=True)
        sys.exit(128 + stop.signum)
    except (RuntimeError, FileNotFoundError, FileExistsError, ValueError) as err:
        raise SystemExit(f'quickstart failed: {err}') from None


if __name__ == '__main__':
    main()
