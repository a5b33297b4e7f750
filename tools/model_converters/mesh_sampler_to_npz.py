"""Convert a legacy pickled ``mesh_downsampling.npz`` into the pickle-free sampler layout.

Reads members A, U, D and F with an allow-list unpickler (numpy arrays and scipy.sparse
matrices only; member M is never read) and writes the file ``MeshSampler`` loads without
``allow_pickle``.

Example::

    python tools/model_converters/mesh_sampler_to_npz.py \
        data/mesh_downsampling.npz data/smpl_mesh_sampler.npz
"""
import sys

from postometro_mm.body_models import MeshSampler
from postometro_mm.utils.cli import conversion_parser, refuse_overwrite, run_cli


def main(argv=None) -> None:
    args = conversion_parser(__doc__.split('\n\n')[0], src_help='legacy mesh_downsampling.npz',
                             dst_help='pickle-free sampler .npz to write').parse_args(argv)
    refuse_overwrite(args.dst, args.force)
    sampler = MeshSampler(args.src, allow_pickle=True)
    sampler.save(args.dst, overwrite=args.force)
    print(f'wrote {args.dst}: levels with {sampler.num_vertices} vertices')


if __name__ == '__main__':
    sys.exit(run_cli(main, 'mesh_sampler_to_npz'))
