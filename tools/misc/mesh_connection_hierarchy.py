"""Build Mesh-VQ-VAE connection files (MeshConvolution ``.npy`` format) for any triangle mesh.

    python tools/misc/mesh_connection_hierarchy.py MESH OUT_DIR --num-vertices 6890 1925 400 54
        [--force]

MESH: an SMPL model file (``.pkl`` / ``.npz``: its faces ``f``) or an ``.obj``. OUT_DIR gets
``_pool0.npy`` … ``_pool{2L}.npy`` and ``_unpool0.npy`` … for L pooling steps (the names the
Mesh-VQ-VAE configs use; see ``postometro_mm/body_models/connection_hierarchy.py`` for how the
levels and neighbourhoods are chosen), all or none; existing files need ``--force``. Point
``model.connection_dir`` at OUT_DIR and ``model.num_vertices`` at the mesh's vertex count.
"""
import argparse
import sys

import numpy as np

from postometro_mm.body_models import load_smpl_model_file
from postometro_mm.body_models.connection_hierarchy import write_connection_hierarchy
from postometro_mm.utils.cli import run_cli


def read_faces(path: str) -> tuple:
    """(faces (F, 3) int64, vertex count) of an SMPL model file or an ``.obj``."""
    if path.endswith('.obj'):
        from postometro_mm.apis import load_obj
        vertices, faces = load_obj(path)
        return faces, len(vertices)
    model = load_smpl_model_file(path)
    if 'f' not in model or 'v_template' not in model:
        raise KeyError(f'{path}: an SMPL model file needs "f" and "v_template"')
    return np.asarray(model['f'], dtype=np.int64), len(model['v_template'])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('mesh', help='SMPL model file (.pkl / .npz) or .obj')
    parser.add_argument('out_dir', help='folder for the connection files')
    parser.add_argument('--num-vertices', type=int, nargs='+', required=True,
                        help='vertex counts per level, from the mesh\'s own down')
    parser.add_argument('--force', action='store_true', help='overwrite existing files')
    args = parser.parse_args(argv)
    faces, count = read_faces(args.mesh)
    if args.num_vertices[0] != count:
        raise ValueError(f'--num-vertices must start with the mesh\'s {count} vertices, got '
                         f'{args.num_vertices[0]}')
    paths = write_connection_hierarchy(faces, args.num_vertices, args.out_dir, args.force)
    print(f'wrote {len(paths)} connection files to {args.out_dir} '
          f'({" -> ".join(map(str, args.num_vertices))} vertices)')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main, 'mesh_connection_hierarchy'))
