"""Time the CPU mesh renderer on a posed SMPL-topology mesh (single thread).

Uses the synthetic SMPL-format body model; with the SMPL topology files present (default
``smpl_topology`` in ``$POSTOMETRO_MM_REFERENCE_DATA`` or in ``../shared/reference_data``
beside the repository; or ``--topology-dir``) it
has SMPL's real size (6890 vertices, 13776 faces), otherwise the small default mesh.

Example::

    python tools/analysis/benchmark_renderer.py --image-size 512 --repeats 20
"""
import os

for _var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(_var, '1')  # measure one core

import argparse  # noqa: E402
import os.path as osp  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from postometro_mm.body_models import GenderedSMPL, load_joint_regressor  # noqa: E402
from postometro_mm.body_models.synthetic import write_synthetic_body_model  # noqa: E402
from postometro_mm.visualization import (overlay_render, rasterize, render_mesh,  # noqa: E402
                                         rotate_about_y, weak_perspective_to_translation)

DEFAULT_TOPOLOGY = osp.join(
    os.environ.get(
        'POSTOMETRO_MM_REFERENCE_DATA',
        osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', '..', 'shared',
                 'reference_data')), 'smpl_topology')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--image-size', type=int, default=512, help='square image side (px)')
    parser.add_argument('--repeats', type=int, default=10, help='timed runs per step')
    parser.add_argument('--topology-dir', default=DEFAULT_TOPOLOGY,
                        help='SMPL topology files for a real-size mesh (skipped if missing)')
    parser.add_argument('--focal-length', type=float, default=5000.0)
    parser.add_argument('--fill', type=float, default=0.8,
                        help='fraction of the image height the body spans (zoom)')
    return parser.parse_args()


def timed(fn, repeats: int) -> np.ndarray:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * np.array(times)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    topology = args.topology_dir if osp.isdir(args.topology_dir) else None
    with tempfile.TemporaryDirectory() as tmp:
        assets = write_synthetic_body_model(tmp, topology_dir=topology)
        model = GenderedSMPL(assets['model_dir'])
        regressor = load_joint_regressor(assets['j_regressor_h36m'])
        pose = 0.2 * torch.from_numpy(np.random.default_rng(0).normal(size=(1, 72))).float()
        pose[:, :3] = torch.tensor([np.pi, 0.0, 0.0])  # upright in the camera frame (y down)
        with torch.no_grad():
            verts = model(pose, torch.zeros(1, 10), torch.zeros(1, dtype=torch.long))[0]
        faces = model.faces
    verts = (verts - regressor[0] @ verts).numpy().astype(np.float64)

    size = args.image_size
    # a weak-perspective camera making the body span `fill` of a crop = the whole image
    camera = (2.0 * args.fill / np.ptp(verts[:, 1]), 0.0, 0.0)
    centre = (size / 2, size / 2)
    verts_cam = verts + weak_perspective_to_translation(camera, centre, size,
                                                        args.focal_length, centre)
    image = np.full((size, size, 3), 128, np.uint8)
    render = render_mesh(verts_cam, faces, (size, size), args.focal_length)
    side = rotate_about_y(verts_cam, 90.0)

    steps = {
        'rasterize': lambda: rasterize(verts_cam, faces, (size, size), args.focal_length),
        'render_mesh (raster + shading)':
        lambda: render_mesh(verts_cam, faces, (size, size), args.focal_length),
        'overlay_render': lambda: overlay_render(image, render),
        'side view (rotate + render)': lambda: render_mesh(
            rotate_about_y(verts_cam, 90.0), faces, (size, size), args.focal_length),
    }
    print(f'mesh: {len(verts)} vertices, {len(faces)} faces '
          f'({"real SMPL topology" if topology else "small synthetic topology"}); image '
          f'{size}x{size}; body spans {args.fill:.0%} of the height, '
          f'{int(render.mask.sum())} pixels covered '
          f'({int(render_mesh(side, faces, (size, size), args.focal_length).mask.sum())} '
          'in the side view); 1 thread')
    for name, fn in steps.items():
        ms = timed(fn, args.repeats)
        print(f'{name:32s} median {np.median(ms):7.1f} ms  min {ms.min():7.1f} ms  '
              f'max {ms.max():7.1f} ms  ({args.repeats} runs)')


if __name__ == '__main__':
    main()
