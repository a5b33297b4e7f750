"""CPU latency and throughput of VQ-HPS (ResNet-50 or HRNet-W48) at 224x224, random weights.

    python tools/analysis/benchmark_vqhps.py --smpl-dir data/body_models/smpl \\
        --j-regressor data/body_models/J_regressor_h36m_correct.npy \\
        --connection-dir data/body_models/ConnectionMatrices [--models r50 hrnet-w48] \\
        [--batch-sizes 1 32] [--repeats 3] [--threads 2]

The models are those of ``configs/vqhps/vqhps_{r50,hrnet-w48}_mixed-224x224.py``; the body
model and the H36M regressor give the rest pose of the rotation branch, the connection files
the frozen Mesh-VQ-VAE. Latency is the median wall time of ``repeats`` predictions (backbones,
transformer, token classifier, mesh decoding) after one warm-up, in eval mode without gradients.
"""
import argparse
import os.path as osp
import statistics
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import postometro_mm  # noqa: F401  (registers the models)
from mmpose.registry import MODELS
from postometro_mm.utils.model_configs import without_pretrained

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {name: osp.join(REPO, 'configs', 'vqhps', f'vqhps_{name}_mixed-224x224.py')
           for name in ('r50', 'hrnet-w48')}


def build(name: str, args: argparse.Namespace) -> torch.nn.Module:
    """The config's model with random weights and the given asset paths."""
    model = without_pretrained(Config.fromfile(CONFIGS[name]).model.to_dict())
    model['head'].update(joint_regressor=args.j_regressor,
                         body_model=dict(type='GenderedSMPL', model_path=args.smpl_dir))
    model['head']['mesh_tokenizer']['connection_dir'] = args.connection_dir
    return MODELS.build(model).eval()


@torch.no_grad()
def seconds_per_batch(model: torch.nn.Module, batch_size: int, repeats: int) -> float:
    images = torch.randn(batch_size, 3, 224, 224)

    def predict():
        feats, rot_feats = model.extract_feat(images)
        preds = model.head.forward((feats, ), rot_feats)
        return model.head.posed(model.head.canonical_meshes(preds['logits']), preds['rotmat'])

    predict()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--smpl-dir', required=True)
    parser.add_argument('--j-regressor', required=True, help='J_regressor_h36m_correct.npy')
    parser.add_argument('--connection-dir', required=True)
    parser.add_argument('--models', nargs='+', choices=sorted(CONFIGS), default=['r50'])
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=[1, 32])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    init_default_scope('mmpose')
    print(f'{args.threads} threads, median of {args.repeats} runs')
    print(f'{"model":<12}{"params (M)":>12}{"batch":>7}{"s / batch":>11}{"images/s":>10}')
    for name in args.models:
        model = build(name, args)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        for batch in args.batch_sizes:
            seconds = seconds_per_batch(model, batch, args.repeats)
            print(f'{name:<12}{params:>12.1f}{batch:>7}{seconds:>11.2f}{batch / seconds:>10.2f}')


if __name__ == '__main__':
    main()
