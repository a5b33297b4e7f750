"""Convert an official SMPL ``.pkl`` (with chumpy objects) to a pickle-free ``.npz``.

chumpy is not needed: the file is read with postometro_mm's allow-list unpickler. The output
holds every array of the input (sparse regressors stored dense); entries that are not arrays
or strings (training metadata) are left out and listed.

Example::

    python tools/model_converters/smpl_pkl_to_npz.py \
        basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl data/smpl/SMPL_NEUTRAL.npz
"""
import sys

from postometro_mm.body_models import load_smpl_model_file, save_smpl_model_npz
from postometro_mm.utils.cli import conversion_parser, refuse_overwrite, run_cli


def main(argv=None) -> None:
    args = conversion_parser(__doc__.split('\n\n')[0], src_help='SMPL model .pkl (or .npz) file',
                             dst_help='pickle-free .npz to write').parse_args(argv)
    refuse_overwrite(args.dst, args.force)
    data = load_smpl_model_file(args.src)
    dropped = save_smpl_model_npz(data, args.dst, overwrite=args.force)
    print(f'wrote {args.dst}: {data["v_template"].shape[0]} vertices, '
          f'{data["shapedirs"].shape[-1]} shape components')
    if dropped:
        print(f'left out non-array entries: {", ".join(sorted(dropped))}')


if __name__ == '__main__':
    sys.exit(run_cli(main, 'smpl_pkl_to_npz'))
