"""Command-line plumbing shared by ``tools/dataset_converters/*_converter.py``."""
import argparse
from typing import Callable, Dict, Sequence

from ..validation import InvalidAnnotationError


def converter_argument_parser(description: str, root_help: str, splits: Sequence[str],
                              splits_help: str, body_model_help: str) -> argparse.ArgumentParser:
    """Parser with the arguments every converter takes.

    Positional ``root`` and ``out_dir``; ``--splits`` (choices ``splits``, default all);
    ``--body-model-dir`` and ``--j-regressor-extra`` (together they enable the J24 3D joints);
    ``--force``. Converters add their own options to the returned parser.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('root', help=root_help)
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--splits', nargs='+', default=list(splits), choices=splits,
                        help=splits_help)
    parser.add_argument('--body-model-dir', default=None, help=body_model_help)
    parser.add_argument('--j-regressor-extra', default=None,
                        help='J_regressor_extra.npy (needed with --body-model-dir)')
    parser.add_argument('--force', action='store_true', help='overwrite existing outputs')
    return parser


def run_converter(convert: Callable[..., Dict[str, int]], args: argparse.Namespace,
                  **kwargs) -> None:
    """Run ``convert(root, out_dir, splits=…, body_model_dir=…, j_regressor_extra=…,
    force=…, **kwargs)`` and print its counts; input errors end the program with their
    message instead of a traceback."""
    try:
        counts = convert(args.root, args.out_dir, splits=args.splits,
                         body_model_dir=args.body_model_dir,
                         j_regressor_extra=args.j_regressor_extra, force=args.force, **kwargs)
    except (FileExistsError, FileNotFoundError, KeyError, InvalidAnnotationError) as err:
        raise SystemExit(f'error: {err.args[0] if err.args else err}') from None
    for name, count in counts.items():
        print(f'{name}: {count}')
