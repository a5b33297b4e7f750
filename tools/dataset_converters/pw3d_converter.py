"""Convert 3DPW's official sequence files into PW3DDataset annotation files.

Example::

    python tools/dataset_converters/pw3d_converter.py data/3DPW data/3DPW/annotations \
        --body-model-dir data/smpl --j-regressor-extra data/J_regressor_extra.npy

writes ``pw3d_{train,validation,test,occ,pc}.npz`` and prints the record counts.
"""
import argparse

from postometro_mm.datasets import InvalidAnnotationError
from postometro_mm.datasets.converters import convert_pw3d
from postometro_mm.datasets.converters.pw3d import PW3D_SPLITS


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='3DPW root holding sequenceFiles/ and imageFiles/')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--splits', nargs='+', default=list(PW3D_SPLITS), choices=PW3D_SPLITS,
                        help='official splits to convert (OCC/PC are taken from all of them)')
    parser.add_argument('--body-model-dir', default=None,
                        help='folder with SMPL_{MALE,FEMALE}.{pkl,npz}: enables J24 3D joints')
    parser.add_argument('--j-regressor-extra', default=None,
                        help='J_regressor_extra.npy (needed with --body-model-dir)')
    parser.add_argument('--force', action='store_true', help='overwrite existing outputs')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        counts = convert_pw3d(args.root, args.out_dir, splits=args.splits,
                              body_model_dir=args.body_model_dir,
                              j_regressor_extra=args.j_regressor_extra, force=args.force)
    except (FileExistsError, FileNotFoundError, KeyError, InvalidAnnotationError) as err:
        raise SystemExit(f'error: {err.args[0] if err.args else err}') from None
    for name, count in counts.items():
        print(f'{name}: {count}')


if __name__ == '__main__':
    main()
