"""Parameters and CPU latency of PCT's pose tokenizer (``PCTPoseEstimator.tokenize``).

Builds the model from a PCT stage-2 config with random weights (no checkpoint is read), frozen
and in eval mode, and times ``tokenize(images)`` (backbone + classifier + softmax @ codebook;
``--decode`` adds the tokenizer decoder) at each batch size. Prints a markdown table.

Example::

    python tools/analysis/benchmark_pct.py --batch-sizes 1 16 --threads 2
"""
import argparse
import statistics
import time
from typing import Dict, List

import torch

DEFAULT_CONFIG = 'configs/pct/pct_classifier_swinv2-base_coco-256x256.py'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='PCT stage-2 config')
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 16])
    parser.add_argument('--warmup', type=int, default=2, help='untimed runs per batch size')
    parser.add_argument('--repeats', type=int, default=5, help='timed runs per batch size')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch\'s choice)')
    parser.add_argument('--decode', action='store_true', help='also decode 2D keypoints')
    return parser.parse_args()


def count_parameters(model: torch.nn.Module) -> Dict[str, int]:
    """Parameter counts of the parts that ``tokenize`` runs."""
    head = model.head
    return {
        'backbone': sum(p.numel() for p in model.backbone.parameters()),
        'classifier': sum(p.numel() for p in head.classifier.parameters()),
        'tokenizer decoder': sum(
            p.numel() for name, p in head.tokenizer.named_parameters()
            if name.startswith(('decoder', 'recover_embed'))),
        'total (incl. tokenizer encoder)': sum(p.numel() for p in model.parameters()),
    }


def time_tokenize(model: torch.nn.Module, batch_size: int, size: tuple, warmup: int,
                  repeats: int, decode: bool) -> List[float]:
    """Wall-clock seconds of ``repeats`` calls of ``model.tokenize`` on random images."""
    images = torch.randn(batch_size, 3, size[1], size[0])
    times = []
    with torch.no_grad():
        for i in range(warmup + repeats):
            start = time.perf_counter()
            model.tokenize(images, decode=decode)
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return times


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import postometro_mm  # noqa: F401  (registers the plugin modules)
    from mmpose.registry import MODELS

    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    cfg.model.frozen = True
    model = MODELS.build(cfg.model)  # random weights: building runs no init_cfg
    size = tuple(model.head.input_size)

    print(f'config: {args.config}; input {size[0]}x{size[1]}; torch {torch.__version__}; '
          f'{torch.get_num_threads()} threads; decode={args.decode}\n')
    print('| part | parameters (M) |\n|---|---|')
    for name, count in count_parameters(model).items():
        print(f'| {name} | {count / 1e6:.2f} |')
    print('\n| batch | median latency (ms) | min (ms) | per image (ms) | images/s |\n'
          '|---|---|---|---|---|')
    for batch in args.batch_sizes:
        times = time_tokenize(model, batch, size, args.warmup, args.repeats, args.decode)
        median = statistics.median(times)
        print(f'| {batch} | {median * 1e3:.1f} | {min(times) * 1e3:.1f} | '
              f'{median / batch * 1e3:.1f} | {batch / median:.2f} |')


if __name__ == '__main__':
    main()
