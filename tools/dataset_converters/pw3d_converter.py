"""Convert 3DPW's official sequence files into PW3DDataset annotation files.

Example::

    python tools/dataset_converters/pw3d_converter.py data/3DPW data/3DPW/annotations \
        --body-model-dir data/body_models/smpl \
        --j-regressor-extra data/body_models/J_regressor_extra.npy

writes ``pw3d_{train,validation,test,occ,pc}.npz`` and prints the record counts.
"""
import sys

from postometro_mm.datasets.converters import convert_pw3d
from postometro_mm.datasets.converters.cli import converter_argument_parser, run_converter
from postometro_mm.datasets.converters.pw3d import PW3D_SPLITS
from postometro_mm.utils.cli import run_cli


def main() -> None:
    parser = converter_argument_parser(
        __doc__.split('\n')[0], root_help='3DPW root holding sequenceFiles/ and imageFiles/',
        splits=PW3D_SPLITS,
        splits_help='official splits to convert (OCC/PC are taken from all of them)',
        body_model_help='folder with SMPL_{MALE,FEMALE}.{pkl,npz}: enables J24 3D joints')
    run_converter(convert_pw3d, parser.parse_args())


if __name__ == '__main__':
    sys.exit(run_cli(main, 'pw3d_converter'))
