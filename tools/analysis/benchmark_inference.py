"""CPU inference speed of a mesh model in eager PyTorch fp32, ONNX Runtime fp32 and ONNX Runtime
int8 (``pytorch2onnx.py --int8``), interleaved in one process, with the output differences.

    python tools/analysis/benchmark_inference.py [--config configs/postometro/...py]
        [--checkpoint CKPT] [--topology-dir DIR] [--batch-sizes 1 8] [--rounds 5]
        [--threads 2] [--frame-size 640 480] [--demo-frames 20] [--out result.json]

Weights are random unless ``--checkpoint`` is given (speed does not depend on them; the int8
accuracy cost does, so measure that on a test set with ``tools/deployment/test_onnx.py``). The
config's mesh files are replaced by the SMPL-topology files of ``--topology-dir`` (default
``smpl_topology`` in ``$POSTOMETRO_MM_REFERENCE_DATA`` or ``../shared/reference_data``). The
model is exported to a temporary folder at the config's crop size. Every round times each
backend once per batch size (raw crops in, vertices / joints / camera out), so load changes hit
all backends alike; one warm-up round is not counted. The ONNX Runtime sessions do not spin
(``onnxruntime_session(spinning=False)``): they alternate, and idle spinning threads would slow
the next run; a lone spinning session is ~5 % faster than measured here. Then the throughput
of one single-threaded worker per core running batch-1 crops at the same time (threads; torch
and ONNX Runtime release the GIL), against one ``--threads`` run at batch 1. Then a
``--frame-size`` frame with the whole image as the person box goes through ``inference_mesh`` (crop pipeline, model,
post-processing; no detector, no drawing) in each backend. Medians in seconds, speed-ups
against eager. Last, the demo's loop on a ``--demo-frames`` video of such frames (whole-image
boxes, ``MeshInferencer`` with drawing, mp4 writing and the JSON records, as
``demo/mesh_demo.py`` does) in each backend: frame by frame with ``--threads`` threads
(``overlap=False``), overlapped with one ``--threads`` worker, and overlapped with one
single-threaded worker per core (the demo's default for videos): frames/s over the whole video
(batches of ``--demo-batch-size`` crops), median of ``--rounds`` interleaved rounds after a
warm-up round on 3 frames.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import tempfile
import threading
import time
from typing import Callable, Dict

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'postometro', 'postometro-s_r50_mixed-256x256.py')
DEFAULT_TOPOLOGY = osp.join(
    os.environ.get('POSTOMETRO_MM_REFERENCE_DATA',
                   osp.join(REPO, '..', 'shared', 'reference_data')), 'smpl_topology')
BACKENDS = ('eager fp32', 'onnxruntime fp32', 'onnxruntime int8')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='mesh model config')
    parser.add_argument('--checkpoint', help='checkpoint (random weights if omitted)')
    parser.add_argument('--topology-dir', default=DEFAULT_TOPOLOGY,
                        help='folder with mesh_downsampling.npz and J_regressor_h36m_correct.npy')
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--rounds', type=int, default=5, help='timed rounds')
    parser.add_argument('--threads', type=int, default=2,
                        help='intra-op threads of torch and of ONNX Runtime')
    parser.add_argument('--frame-size', type=int, nargs=2, default=(640, 480),
                        metavar=('W', 'H'))
    parser.add_argument('--demo-frames', type=int, default=20,
                        help='frames of the demo-loop video (0: skip that part)')
    parser.add_argument('--demo-batch-size', type=int, default=1,
                        help='crops per forward pass in the demo loop')
    parser.add_argument('--out', help='also write the results as JSON')
    return parser.parse_args()


def timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def concurrent_seconds(step: Callable[[], object], workers: int) -> float:
    """Wall time of ``workers`` threads each running ``step`` once, all started together."""
    threads = [threading.Thread(target=step) for _ in range(workers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def write_video(path: str, frame: np.ndarray, num_frames: int) -> str:
    """An mp4 of ``num_frames`` copies of ``frame``, each shifted a little (so that the codec
    cannot skip them)."""
    import cv2
    height, width = frame.shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25, (width, height))
    for index in range(num_frames):
        writer.write(np.roll(frame, 4 * index, axis=1))
    writer.release()
    return path


def demo_loop_fps(inferencer, video: str, overlap: bool, folder: str,
                  torch_threads: int) -> float:
    """Frames/s of the demo's loop over ``video``: predictions, drawing, mp4 writing and the
    JSON records of every frame."""
    import cv2

    from postometro_mm.apis import prediction_records
    threads = torch.get_num_threads()
    torch.set_num_threads(torch_threads)
    writer, records, start = None, [], time.perf_counter()
    for result in inferencer(video, overlap=overlap):
        vis = np.ascontiguousarray(result['visualization'][..., ::-1])
        if writer is None:
            writer = cv2.VideoWriter(osp.join(folder, 'out.mp4'), cv2.VideoWriter_fourcc(*'mp4v'),
                                     25, (vis.shape[1], vis.shape[0]))
        writer.write(vis)
        records.append(prediction_records(result['predictions']))
    writer.release()
    seconds = time.perf_counter() - start
    torch.set_num_threads(threads)
    return len(records) / seconds


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    from postometro_mm.apis import (MeshInferencer, ONNXRuntimeMeshModel, inference_mesh,
                                    init_model)
    from postometro_mm.apis.onnx_export import (crop_size, export_onnx, pytorch_outputs,
                                                quantize_int8)
    from postometro_mm.apis.onnxruntime_model import onnxruntime_session

    options = {
        'model.head.mesh_sampler.filename': osp.join(args.topology_dir, 'mesh_downsampling.npz'),
        'model.head.joint_regressor': osp.join(args.topology_dir,
                                               'J_regressor_h36m_correct.npy')}
    model = init_model(args.config, args.checkpoint, device='cpu', cfg_options=options)
    size = crop_size(model)
    results = dict(config=osp.relpath(args.config, REPO), threads=args.threads,
                   rounds=args.rounds, crop=list(size), cpu=os.cpu_count(), seconds={},
                   max_abs_difference={}, frame_seconds={})
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as folder:
        fp32, int8 = osp.join(folder, 'model.onnx'), osp.join(folder, 'model_int8.onnx')
        print(f'exporting {results["config"]} at {size[0]}x{size[1]} ...', flush=True)
        export_onnx(model, fp32, size)
        quantize_int8(fp32, int8)
        # spinning off: the sessions alternate with each other and with torch, and an idle
        # session's spinning threads would slow the next one (~5 % slower for a lone session)
        sessions = {'onnxruntime fp32': onnxruntime_session(fp32, args.threads, False),
                    'onnxruntime int8': onnxruntime_session(int8, args.threads, False)}

        def run(backend: str, crops: np.ndarray,
                backend_sessions: Dict[str, object] = sessions) -> Dict[str, np.ndarray]:
            if backend == 'eager fp32':
                return pytorch_outputs(model, crops)
            session = backend_sessions[backend]
            names = [o.name for o in session.get_outputs()]
            return dict(zip(names, session.run(None, {'crops': crops})))

        rng = np.random.default_rng(0)
        for batch in args.batch_sizes:
            crops = rng.uniform(0, 255, (batch, 3, *size)).astype(np.float32)
            reference = run('eager fp32', crops)
            results['max_abs_difference'][batch] = {
                b: {k: float(np.abs(v - reference[k]).max()) for k, v in run(b, crops).items()}
                for b in BACKENDS[1:]}
            times = {b: [] for b in BACKENDS}
            for round_index in range(args.rounds + 1):  # round 0: warm-up
                for backend in BACKENDS:
                    seconds = timed(lambda: run(backend, crops))
                    if round_index:
                        times[backend].append(seconds)
            results['seconds'][batch] = {b: statistics.median(t) for b, t in times.items()}
            print(f'batch {batch}: ' + ', '.join(
                f'{b} {s / batch:.3f} s/crop' for b, s in results['seconds'][batch].items()),
                flush=True)

        # one single-threaded worker per core, each running batch-1 crops, all at once
        single_sessions = {'onnxruntime fp32': onnxruntime_session(fp32, 1, False),
                           'onnxruntime int8': onnxruntime_session(int8, 1, False)}
        crop = rng.uniform(0, 255, (1, 3, *size)).astype(np.float32)
        calls = 2
        worker_times = {b: [] for b in BACKENDS}
        torch.set_num_threads(1)
        for round_index in range(args.rounds + 1):  # round 0: warm-up
            for backend in BACKENDS:
                seconds = concurrent_seconds(
                    lambda: [run(backend, crop, single_sessions) for _ in range(calls)],
                    cores)
                if round_index:
                    worker_times[backend].append(seconds)
        torch.set_num_threads(args.threads)
        results['workers_crops_per_second'] = {
            b: cores * calls / statistics.median(t) for b, t in worker_times.items()}

        width, height = args.frame_size
        frame = (rng.random((height, width, 3)) * 255).astype(np.uint8)
        models = {'eager fp32': model,
                  'onnxruntime fp32': ONNXRuntimeMeshModel(model.cfg, fp32, args.threads,
                                                           spinning=False),
                  'onnxruntime int8': ONNXRuntimeMeshModel(model.cfg, int8, args.threads,
                                                           spinning=False)}
        frame_times = {b: [] for b in BACKENDS}
        for round_index in range(args.rounds + 1):
            for backend, runner in models.items():
                seconds = timed(lambda: inference_mesh(runner, frame, decode_pose=False))
                if round_index:
                    frame_times[backend].append(seconds)
        results['frame_seconds'] = {b: statistics.median(t) for b, t in frame_times.items()}
        if args.demo_frames:
            video = write_video(osp.join(folder, 'frames.mp4'), frame, args.demo_frames)
            single_threaded = {
                'eager fp32': model,
                'onnxruntime fp32': ONNXRuntimeMeshModel(model.cfg, fp32, 1, spinning=False),
                'onnxruntime int8': ONNXRuntimeMeshModel(model.cfg, int8, 1, spinning=False)}
            loops = {}  # name: (inferencer, overlap, torch threads)
            for backend, runner in models.items():
                for mode, mesh_model, workers, overlap in (
                        (f'frame by frame, {args.threads} thread(s)', runner, 1, False),
                        (f'overlapped, 1 worker x {args.threads} thread(s)', runner, 1, True),
                        (f'overlapped, {cores} workers x 1 thread', single_threaded[backend],
                         cores, True)):
                    loops[f'{backend}, {mode}'] = (
                        MeshInferencer(mesh_model, batch_size=args.demo_batch_size,
                                       workers=workers), overlap,
                        1 if workers > 1 else args.threads)
            warm_up = write_video(osp.join(folder, 'warm_up.mp4'), frame, 3)
            fps = {name: [] for name in loops}
            for round_index in range(args.rounds + 1):  # round 0: warm-up, 3 frames
                for name, (inferencer, overlap, torch_threads) in loops.items():
                    value = demo_loop_fps(inferencer, warm_up if round_index == 0 else video,
                                          overlap, folder, torch_threads)
                    if round_index:
                        fps[name].append(value)
            results['demo_frames_per_second'] = {k: statistics.median(v) for k, v in fps.items()}
    print(f'\n{results["config"]}, crops {size[0]}x{size[1]}, {args.threads} thread(s), '
          f'median of {args.rounds} interleaved rounds (s per crop; speed-up against eager)')
    print('| batch | ' + ' | '.join(BACKENDS) + ' |\n|---|' + '---|' * len(BACKENDS))
    for batch, seconds in results['seconds'].items():
        eager = seconds['eager fp32']
        print(f'| {batch} | ' + ' | '.join(
            f'{seconds[b] / batch:.3f} ({eager / seconds[b]:.2f}x)' for b in BACKENDS) + ' |')
    if 1 in results['seconds']:
        workers = results['workers_crops_per_second']
        print(f'| 1, {cores} workers x 1 thread, crops/s (x one '
              f'{args.threads}-thread run) | ' + ' | '.join(
                  f'{workers[b]:.2f} ({workers[b] * results["seconds"][1][b]:.2f}x)'
                  for b in BACKENDS) + ' |')
    frame_eager = results['frame_seconds']['eager fp32']
    print(f'| {width}x{height} frame, whole-image box, frames/s | ' + ' | '.join(
        f'{1 / results["frame_seconds"][b]:.2f} ({frame_eager / results["frame_seconds"][b]:.2f}x)'
        for b in BACKENDS) + ' |')
    for name, fps in results.get('demo_frames_per_second', {}).items():
        print(f'demo loop, {args.demo_frames} frames of {width}x{height}, batch '
              f'{args.demo_batch_size}, {name}: {fps:.2f} frames/s')
    for batch, diffs in results['max_abs_difference'].items():
        print(f'batch {batch}, max |output - eager|: ' + '; '.join(
            f'{b}: ' + ', '.join(f'{k} {v:.2e}' for k, v in d.items()) for b, d in diffs.items()))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
