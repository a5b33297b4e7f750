"""Convert a legacy pickled ``mesh_downsampling.npz`` into the pickle-free sampler layout.

Reads members A, U, D and F with an allow-list unpickler (numpy arrays and scipy.sparse
matrices only; member M is never read) and writes the file ``MeshSampler`` loads without
``allow_pickle``.

Example::

    python tools/model_converters/mesh_sampler_to_npz.py \
        data/mesh_downsampling.npz data/smpl_mesh_sampler.npz
"""
import argparse

from postometro_mm.body_models import MeshSampler


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('input', help='legacy mesh_downsampling.npz')
    parser.add_argument('output', help='pickle-free sampler .npz to write')
    parser.add_argument('--force', action='store_true', help='replace an existing output file')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sampler = MeshSampler(args.input, allow_pickle=True)
    sampler.save(args.output, overwrite=args.force)
    print(f'wrote {args.output}: levels with {sampler.num_vertices} vertices')


if __name__ == '__main__':
    main()
