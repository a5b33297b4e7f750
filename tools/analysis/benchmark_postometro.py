"""Parameters, GFLOPs and CPU latency of PostoMETRO-S-R50 and -L-HRNet-W48, with and without the
pose branch (PCT-Base tokenizer + pose modulator).

    python tools/analysis/benchmark_postometro.py --topology-dir DIR [--batch-sizes 1 16]
        [--repeats 5] [--models S-R50 L-HRNet-W48] [--out result.json]

DIR holds ``mesh_downsampling.npz`` and ``J_regressor_h36m_correct.npy`` (the SMPL-topology
files of METRO / FastMETRO / PostoMETRO). The models are those of the repository configs
``configs/postometro/{postometro,fastmetro}-{s_r50,l_hrnet-w48}_mixed-256x256.py`` (FastMETRO =
no pose branch), with random weights (speed does not depend on them).
GFLOPs are counted by ``mmengine.analysis`` at batch 1 (one multiply-add = one FLOP, fvcore's
convention; operators it cannot count, e.g. sparse matrix products, are listed and skipped).
Latency is the median wall time of ``repeats`` forward passes in eval mode without gradients,
after one warm-up pass, with ``torch.get_num_threads()`` threads.
"""
import argparse
import json
import os.path as osp
import statistics
import time
from typing import Dict, List

import torch
from mmengine.registry import init_default_scope

from mmpose.registry import MODELS
from postometro_mm.utils.model_configs import mesh_model_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# name: the repository configs of the model (with, without the pose branch)
MODELS_TO_BENCHMARK = {
    'S-R50': ('postometro-s_r50_mixed-256x256.py', 'fastmetro-s_r50_mixed-256x256.py'),
    'L-HRNet-W48': ('postometro-l_hrnet-w48_mixed-256x256.py',
                    'fastmetro-l_hrnet-w48_mixed-256x256.py'),
}


def model_cfg(name: str, with_pose: bool, topology_dir: str) -> dict:
    """The model of the repository config, random weights, topology files of ``topology_dir``."""
    config = MODELS_TO_BENCHMARK[name][0 if with_pose else 1]
    return mesh_model_config(osp.join(REPO, 'configs', 'postometro', config), topology_dir)


def count_params(model: torch.nn.Module) -> Dict[str, float]:
    """Millions of parameters per top-level part and in total."""
    parts = {name: sum(p.numel() for p in child.parameters()) / 1e6
             for name, child in model.named_children() if name != 'data_preprocessor'}
    parts = {k: v for k, v in parts.items() if v > 0}
    parts['total'] = sum(parts.values())
    return parts


def count_gflops(model: torch.nn.Module, inputs: torch.Tensor) -> Dict[str, object]:
    """GFLOPs per part at the batch size of ``inputs``.

    ``scaled_dot_product_attention`` (used by ``nn.MultiheadAttention``) is counted as its two
    matrix products, QKᵀ and AV. The tracer cannot follow the sparse middle → fine upsampling:
    it is stubbed during tracing and its multiply-adds (non-zeros × 3 coordinates per image) are
    added to the head.
    """
    from mmengine.analysis import FlopAnalyzer

    class Traceable(torch.nn.Module):
        """Tuple outputs for the tracer (the estimator returns a dict in 'tensor' mode)."""

        def __init__(self, estimator):
            super().__init__()
            self.estimator = estimator

        def forward(self, x):
            out = self.estimator(x, mode='tensor')
            return out['pred_cam'], out['pred_joints'], out['pred_vertices']

    sampler = model.head.mesh_sampler
    num_fine = sampler.num_vertices[0]
    sampler.upsample = lambda x, from_level, to_level: x.new_zeros(x.shape[0], num_fine, 3)
    try:
        analyzer = FlopAnalyzer(Traceable(model), (inputs, ))
        analyzer.set_op_handle('aten::scaled_dot_product_attention', _attention_flops)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        by_module = analyzer.by_module()
        skipped = dict(analyzer.unsupported_ops())
    finally:
        del sampler.upsample
    upsample_flops = sampler.up_0.coalesce()._nnz() * 3 * inputs.shape[0]
    parts = {name: by_module[f'estimator.{name}'] / 1e9
             for name in ('backbone', 'pose_tokenizer', 'neck', 'head')
             if f'estimator.{name}' in by_module}
    parts['head'] += upsample_flops / 1e9
    parts['total'] = sum(parts.values())
    return dict(gflops=parts, skipped_ops=skipped)


def _attention_flops(inputs: list, outputs: list) -> int:
    """Multiply-adds of softmax(QKᵀ)V for q (..., L, d), k (..., S, d), v (..., S, d_v)."""
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch = 1
    for dim in q[:-2]:
        batch *= dim
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


@torch.no_grad()
def latency(model: torch.nn.Module, batch_size: int, repeats: int) -> Dict[str, float]:
    inputs = torch.randn(batch_size, 3, 256, 256)
    model(inputs, mode='tensor')
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(inputs, mode='tensor')
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return dict(batch_size=batch_size, repeats=repeats, ms_per_batch=1e3 * median,
                images_per_s=batch_size / median)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--topology-dir', required=True,
                        help='folder with mesh_downsampling.npz and J_regressor_h36m_correct.npy')
    parser.add_argument('--models', nargs='+', default=list(MODELS_TO_BENCHMARK),
                        choices=list(MODELS_TO_BENCHMARK))
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=[1, 16])
    parser.add_argument('--repeats', type=int, default=5,
                        help='timed passes at batch 1 (larger batches: max(1, repeats // 4))')
    parser.add_argument('--threads', type=int, help='torch threads (default: torch default)')
    parser.add_argument('--out', help='also write the results as JSON')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    init_default_scope('mmpose')
    import postometro_mm  # noqa: F401
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results: List[dict] = []
    print(f'threads: {torch.get_num_threads()}')
    for name in args.models:
        for with_pose in (False, True):
            label = f'PostoMETRO-{name}' + ('' if with_pose else ' (no pose branch)')
            model = MODELS.build(model_cfg(name, with_pose, args.topology_dir)).eval()
            row = dict(model=label, params_m=count_params(model),
                       **count_gflops(model, torch.randn(1, 3, 256, 256)),
                       latency=[latency(model, b, args.repeats if b == 1 else
                                        max(1, args.repeats // 4))
                                for b in args.batch_sizes])
            results.append(row)
            print(json.dumps(row))
            del model
    print('\n| model | params (M) | GFLOPs | ' +
          ' | '.join(f'b{b} ms / img/s' for b in args.batch_sizes) + ' |')
    print('|---|---|---|' + '---|' * len(args.batch_sizes))
    for row in results:
        cells = [f"{t['ms_per_batch']:.0f} / {t['images_per_s']:.1f}" for t in row['latency']]
        print(f"| {row['model']} | {row['params_m']['total']:.1f} | "
              f"{row['gflops']['total']:.1f} | " + ' | '.join(cells) + ' |')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
