"""Evaluate an exported mesh model (``pytorch2onnx.py``, fp32 or int8) with ONNX Runtime on a
config's test set, with the config's test evaluator (as ``tools/test.py`` does for PyTorch).

    python tools/deployment/test_onnx.py CONFIG MODEL.onnx [--threads 1] [--out metrics.json]
        [--cfg-options K=V ...]

Prints the metrics (and writes them as JSON with ``--out``). Comparing an int8 graph's metrics
with its fp32 graph's on the same set measures the accuracy cost of the quantisation.
"""
import argparse
import json
import sys

from mmengine.config import DictAction

from postometro_mm.utils.cli import run_cli


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='the config the model was exported from')
    parser.add_argument('onnx', help='the exported graph')
    parser.add_argument('--threads', type=int, default=1, help='ONNX Runtime intra-op threads')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides of the config, e.g. test_dataloader.batch_size=8')
    return parser.parse_args(argv)


def evaluate(config: str, onnx_file: str, threads: int = 1, cfg_options=None) -> dict:
    """The config's test evaluator over its test dataloader, predictions by ONNX Runtime."""
    from mmengine.evaluator import Evaluator
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    from mmengine.utils import ProgressBar

    from postometro_mm.apis import ONNXRuntimeMeshModel
    model = ONNXRuntimeMeshModel(config, onnx_file, threads, cfg_options)
    cfg = model.cfg
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpose')):
        loader = Runner.build_dataloader(cfg.test_dataloader)
        evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = loader.dataset.metainfo
    progress = ProgressBar(len(loader), file=sys.stdout)
    for batch in loader:
        evaluator.process(data_samples=model.test_step(batch), data_batch=batch)
        progress.update()
    print()
    return evaluator.evaluate(len(loader.dataset))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads < 1:
        raise ValueError(f'--threads must be at least 1, got {args.threads}')
    metrics = evaluate(args.config, args.onnx, args.threads, args.cfg_options)
    for key, value in metrics.items():
        print(f'{key}: {value:.4f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main, 'test_onnx'))
