"""Convert 3DOH50K's released annotations into OH3DDataset annotation files.

Example::

    python tools/dataset_converters/oh3d_converter.py data/3DOH50K data/3DOH50K/annotations \
        --body-model-dir data/body_models/smpl \
        --j-regressor-extra data/body_models/J_regressor_extra.npy

reads ``{trainset,testset}/annots.json``, writes ``oh3d_{train,test}.npz`` and prints the
record counts.
"""
import sys

from postometro_mm.datasets.converters import convert_oh3d
from postometro_mm.datasets.converters.cli import converter_argument_parser, run_converter
from postometro_mm.datasets.converters.oh3d import OH3D_SPLITS
from postometro_mm.utils.cli import run_cli


def main() -> None:
    parser = converter_argument_parser(
        __doc__.split('\n')[0], root_help='3DOH50K root holding trainset/ and testset/',
        splits=OH3D_SPLITS, splits_help='splits to convert',
        body_model_help='folder with SMPL_NEUTRAL.{pkl,npz}: enables J24 3D joints')
    parser.add_argument('--skip-invalid', action='store_true',
                        help='skip invalid annotations (one warning) instead of stopping')
    args = parser.parse_args()
    run_converter(convert_oh3d, args, skip_invalid=args.skip_invalid)


if __name__ == '__main__':
    sys.exit(run_cli(main, 'oh3d_converter'))
