"""Convert 3DOH50K's released annotations into OH3DDataset annotation files.

Example::

    python tools/dataset_converters/oh3d_converter.py data/3DOH50K data/3DOH50K/annotations \
        --body-model-dir data/smpl --j-regressor-extra data/J_regressor_extra.npy

reads ``{trainset,testset}/annots.json``, writes ``oh3d_{train,test}.npz`` and prints the
record counts.
"""
import argparse

from postometro_mm.datasets import InvalidAnnotationError
from postometro_mm.datasets.converters import convert_oh3d
from postometro_mm.datasets.converters.oh3d import OH3D_SPLITS


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='3DOH50K root holding trainset/ and testset/')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--splits', nargs='+', default=list(OH3D_SPLITS), choices=OH3D_SPLITS)
    parser.add_argument('--body-model-dir', default=None,
                        help='folder with SMPL_NEUTRAL.{pkl,npz}: enables J24 3D joints')
    parser.add_argument('--j-regressor-extra', default=None,
                        help='J_regressor_extra.npy (needed with --body-model-dir)')
    parser.add_argument('--skip-invalid', action='store_true',
                        help='skip invalid annotations (one warning) instead of stopping')
    parser.add_argument('--force', action='store_true', help='overwrite existing outputs')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        counts = convert_oh3d(args.root, args.out_dir, splits=args.splits,
                              body_model_dir=args.body_model_dir,
                              j_regressor_extra=args.j_regressor_extra,
                              skip_invalid=args.skip_invalid, force=args.force)
    except (FileExistsError, FileNotFoundError, KeyError, InvalidAnnotationError) as err:
        raise SystemExit(f'error: {err.args[0] if err.args else err}') from None
    for name, count in counts.items():
        print(f'{name}: {count}')


if __name__ == '__main__':
    main()
