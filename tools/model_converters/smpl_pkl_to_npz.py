"""Convert an official SMPL ``.pkl`` (with chumpy objects) to a pickle-free ``.npz``.

chumpy is not needed: the file is read with postometro_mm's allow-list unpickler. The output
holds every array of the input (sparse regressors stored dense); entries that are not arrays
or strings (training metadata) are left out and listed.

Example::

    python tools/model_converters/smpl_pkl_to_npz.py \
        basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl data/smpl/SMPL_NEUTRAL.npz
"""
import argparse

from postometro_mm.body_models import load_smpl_model_file, save_smpl_model_npz


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('input', help='SMPL model .pkl (or .npz) file')
    parser.add_argument('output', help='pickle-free .npz to write')
    parser.add_argument('--force', action='store_true', help='replace an existing output file')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    data = load_smpl_model_file(args.input)
    dropped = save_smpl_model_npz(data, args.output, overwrite=args.force)
    print(f'wrote {args.output}: {data["v_template"].shape[0]} vertices, '
          f'{data["shapedirs"].shape[-1]} shape components')
    if dropped:
        print(f'left out non-array entries: {", ".join(sorted(dropped))}')


if __name__ == '__main__':
    main()
