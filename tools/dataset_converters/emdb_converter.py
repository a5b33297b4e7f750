"""Convert EMDB's official sequence pickles into EMDBDataset annotation files.

Example::

    python tools/dataset_converters/emdb_converter.py data/EMDB data/EMDB/annotations \
        --body-model-dir data/body_models/smpl \
        --j-regressor-extra data/body_models/J_regressor_extra.npy

writes ``emdb_emdb1.npz`` (``--splits emdb1 emdb2`` for both) and prints the record counts.
"""
import sys

from postometro_mm.datasets.converters import convert_emdb
from postometro_mm.datasets.converters.cli import converter_argument_parser, run_converter
from postometro_mm.datasets.converters.emdb import EMDB_SPLITS
from postometro_mm.utils.cli import run_cli


def main() -> None:
    parser = converter_argument_parser(
        __doc__.split('\n')[0], root_help='EMDB root holding P0 ... P9', splits=EMDB_SPLITS,
        splits_help='EMDB subsets to convert (emdb1: the single-image test set)',
        body_model_help='folder with SMPL_{MALE,FEMALE,NEUTRAL}.{pkl,npz}: enables J24 3D '
        'joints')
    parser.set_defaults(splits=['emdb1'])
    run_converter(convert_emdb, parser.parse_args())


if __name__ == '__main__':
    sys.exit(run_cli(main, 'emdb_converter'))
