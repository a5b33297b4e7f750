"""Demo throughput on the CPU: frames per second of PostoMETRO-S-R50 at one person per frame,
with the person detector excluded and included, and the cost of drawing the mesh.

    python tools/analysis/benchmark_demo.py [--config configs/postometro/...py]
        [--topology-dir DIR] [--det-config rtmdet/rtmdet_tiny_8xb32-300e_coco.py]
        [--frame-size 640 480] [--frames 10] [--threads 2] [--out result.json]

Weights are random (speed does not depend on them) unless ``--checkpoint`` /
``--det-checkpoint`` are given. The mesh files of the config are replaced by the SMPL-topology
files in ``--topology-dir`` (``mesh_downsampling.npz``, ``J_regressor_h36m_correct.npy``;
default ``smpl_topology`` in ``$POSTOMETRO_MM_REFERENCE_DATA`` or ``../shared/reference_data``
beside the repository). Every step runs once as
warm-up, then ``--frames`` timed times on a ``--frame-size`` frame; the medians of the wall
time and of the process's CPU time (all threads) are reported. On a shared machine the wall
time depends on the load; with ``--threads 1`` the CPU time approximates the time on one idle
core.

Timed steps:
  * ``mesh``: ``inference_mesh`` on the whole frame as the person box (crop pipeline, PCT-Base
    tokenizer, ResNet-50, PostoMETRO-S head, decoded 2D pose, full-image camera): the demo
    without a detector.
  * ``detector``: the mmdet detector on the frame (``--det-config``, e.g. RTMDet-tiny or
    Faster R-CNN from mmdet's packaged configs).
  * ``mesh + detector``: both, the mesh on the detector's best box.
  * ``render``: drawing one body mesh (SMPL topology, 6890 vertices) over the frame, the
    person 80 % of the frame high (random weights give meaningless meshes whose drawing cost
    is not representative).
"""
import argparse
import json
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Callable, Dict

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'postometro', 'postometro-s_r50_mixed-256x256.py')
DEFAULT_TOPOLOGY = osp.join(
    os.environ.get('POSTOMETRO_MM_REFERENCE_DATA',
                   osp.join(REPO, '..', 'shared', 'reference_data')), 'smpl_topology')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='mesh model config')
    parser.add_argument('--checkpoint', help='mesh model checkpoint (random weights if omitted)')
    parser.add_argument('--topology-dir', default=DEFAULT_TOPOLOGY,
                        help='folder with mesh_downsampling.npz and J_regressor_h36m_correct.npy')
    parser.add_argument('--det-config', default='rtmdet/rtmdet_tiny_8xb32-300e_coco.py',
                        help='mmdet config (file or path under mmdet\'s packaged configs)')
    parser.add_argument('--det-checkpoint', help='detector weights (random if omitted)')
    parser.add_argument('--frame-size', type=int, nargs=2, default=(640, 480),
                        metavar=('W', 'H'))
    parser.add_argument('--frames', type=int, default=10, help='timed frames per step')
    parser.add_argument('--threads', type=int, default=torch.get_num_threads(),
                        help='torch intra-op threads')
    parser.add_argument('--out', help='also write the results as JSON')
    return parser.parse_args()


def median_ms(step: Callable[[], object], repeats: int) -> Dict[str, float]:
    """Median wall time and median CPU time of this process (all threads), ms."""
    step()  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return dict(wall=1e3 * statistics.median(wall), cpu=1e3 * statistics.median(cpu))


def body_mesh_in_view(topology_dir: str, frame_hw, focal: float) -> Dict[str, np.ndarray]:
    """A standing SMPL-topology body (synthetic model, zero pose) placed so that it is 80 % of
    the frame high, centred: camera-frame vertices and faces."""
    from postometro_mm.body_models import SMPL
    from postometro_mm.body_models.synthetic import write_synthetic_body_model
    with tempfile.TemporaryDirectory() as folder:
        body = write_synthetic_body_model(folder, topology_dir=topology_dir)
        smpl = SMPL(body['model_dir'])
        with torch.no_grad():
            out = smpl(betas=torch.zeros(1, 10), body_pose=torch.zeros(1, 69),
                       global_orient=torch.tensor([[np.pi, 0.0, 0.0]]))  # y down: upright
        vertices = out['vertices'][0].double().numpy()
        faces = np.asarray(smpl.faces, dtype=np.int64)
    vertices -= vertices.mean(axis=0)
    height_m = np.ptp(vertices[:, 1])
    depth = focal * height_m / (0.8 * frame_hw[0])
    return dict(vertices=vertices + [0.0, 0.0, depth], faces=faces)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    from postometro_mm.apis import inference_mesh, init_model
    from postometro_mm.apis.mesh_inferencer import PersonDetector
    from postometro_mm.visualization import draw_meshes

    for name in ('mesh_downsampling.npz', 'J_regressor_h36m_correct.npy'):
        if not osp.isfile(osp.join(args.topology_dir, name)):
            raise SystemExit(f'benchmark_demo: {name} not found in --topology-dir '
                             f'{args.topology_dir}')
    model = init_model(args.config, args.checkpoint, device='cpu', cfg_options={
        'model.head.mesh_sampler.filename': osp.join(args.topology_dir, 'mesh_downsampling.npz'),
        'model.head.joint_regressor': osp.join(args.topology_dir,
                                               'J_regressor_h36m_correct.npy')})
    detector = PersonDetector(args.det_config, args.det_checkpoint, device='cpu',
                              cat_ids=range(80) if args.det_checkpoint is None else (0, ),
                              bbox_thr=0.0, max_persons=1)
    width, height = args.frame_size
    frame = (np.random.default_rng(0).random((height, width, 3)) * 255).astype(np.uint8)
    focal = float(np.hypot(width, height))
    body = body_mesh_in_view(args.topology_dir, (height, width), focal)
    rgb = np.ascontiguousarray(frame[..., ::-1])

    def mesh_with_detector():
        boxes = detector(frame)
        return inference_mesh(model, frame, boxes[:1] if len(boxes) else None)

    steps = {
        'mesh': lambda: inference_mesh(model, frame),
        'detector': lambda: detector(frame),
        'mesh + detector': mesh_with_detector,
        'render': lambda: draw_meshes(rgb, [body['vertices']], body['faces'], focal),
    }
    results = dict(config=osp.relpath(args.config, REPO), detector=args.det_config,
                   frame_size=[width, height], threads=torch.get_num_threads(),
                   frames=args.frames, cpu=os.cpu_count(),
                   load_average=list(os.getloadavg()), ms={})
    for name, step in steps.items():
        results['ms'][name] = median_ms(step, args.frames)
        print(f'{name:>16}: {results["ms"][name]["wall"]:8.1f} ms wall, '
              f'{results["ms"][name]["cpu"]:8.1f} ms CPU', flush=True)
    settings = {
        'detector excluded': ['mesh'],
        'detector included': ['mesh + detector'],
        'detector excluded, with rendering': ['mesh', 'render'],
        'detector included, with rendering': ['mesh + detector', 'render'],
    }
    results['fps'] = {
        name: {kind: 1e3 / sum(results['ms'][part][kind] for part in parts)
               for kind in ('wall', 'cpu')} for name, parts in settings.items()}
    print(f'\n{results["config"]}, {width}x{height} frames, one person, '
          f'{results["threads"]} thread(s), load average {results["load_average"][0]:.1f} on '
          f'{results["cpu"]} CPUs')
    print('| setting | frames/s (wall clock) | frames/s per CPU-second |\n|---|---|---|')
    for name, fps in results['fps'].items():
        print(f'| {name} | {fps["wall"]:.2f} | {fps["cpu"]:.2f} |')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
