"""Encode and decode throughput (meshes/s) of a Mesh-VQ-VAE on the CPU.

Builds the model of ``--config`` (random weights, eval mode) on the connection files of
``--connection-dir`` and times ``encode`` (mesh -> token indices), ``decode`` (indices -> mesh)
and both in a row, at each ``--batch-sizes``, in interleaved rounds (every round measures
every case once, so a machine that gets busier slows all cases alike); prints the median of
the rounds. Example, with the released connection files::

    python tools/analysis/benchmark_mesh_vqvae.py \\
        --connection-dir data/body_models/ConnectionMatrices --batch-sizes 1 64 --threads 2
"""
import argparse
import statistics
import time
from typing import Callable, Dict, List

import torch
from mmengine.config import Config

import postometro_mm  # noqa: F401  (registers MeshVQVAE)
from mmpose.registry import MODELS


def seconds_per_call(fn: Callable[[], object], min_seconds: float = 0.5) -> float:
    """Mean wall time of ``fn`` over as many calls as fill ``min_seconds`` (at least 1)."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Mesh-VQ-VAE encode / decode throughput')
    parser.add_argument('--config', default='configs/_base_/models/mesh_vqvae_medium.py')
    parser.add_argument('--connection-dir', required=True,
                        help='folder of the MeshConvolution connection files')
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 64])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads(),
                        help='torch intra-op threads')
    return parser.parse_args()


@torch.no_grad()
def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    cfg.model.connection_dir = args.connection_dir
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    cases: Dict[str, Callable[[], object]] = {}
    for batch in args.batch_sizes:
        meshes = torch.randn(batch, model.num_vertices, 3) * 0.3
        indices = model.encode(meshes)
        cases[f'encode   batch {batch:>3}'] = lambda m=meshes: model.encode(m)
        cases[f'decode   batch {batch:>3}'] = lambda i=indices: model.decode(i)
        cases[f'enc+dec  batch {batch:>3}'] = lambda m=meshes: model.decode(model.encode(m))
    for fn in cases.values():  # warm-up
        fn()
    times: Dict[str, List[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, fn in cases.items():
            times[name].append(seconds_per_call(fn))
    print(f'{args.config}: {model.num_vertices} vertices -> {model.num_tokens} tokens; '
          f'{args.threads} threads, median of {args.rounds} rounds')
    print(f'{"case":<20}{"ms / call":>12}{"meshes/s":>12}')
    for name, values in times.items():
        batch = int(name.split()[-1])
        median = statistics.median(values)
        print(f'{name:<20}{median * 1000:>12.1f}{batch / median:>12.1f}')


if __name__ == '__main__':
    main()
