"""Export a PostoMETRO / FastMETRO or stage-2 PCT config + checkpoint to ONNX and check it
against PyTorch.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT OUT.onnx [--opset 17]
        [--check-batches 1 3] [--tolerance 1e-4] [--int8 OUT_INT8.onnx]
        [--cfg-options K=V ...] [--unsafe-load] [--force]

The graph takes raw crops (B, 3, H, W) float32, BGR 0-255, H x W the config's crop size, with a
dynamic batch axis. A mesh model returns ``vertices`` (B, V, 3), ``joints`` (B, 14, 3),
``camera`` (B, 3) and, when its PCT tokens feed the neck, ``decoded_keypoints`` (B, 17, 2) crop
fractions; a PCT model returns ``keypoints`` (B, 17, 2) crop px, ``keypoint_scores`` (B, 17),
``pose_feats`` (B, N, D) and ``pose_scores`` (B, N, 1) (see
``postometro_mm/apis/onnx_export.py``). After export, ONNX Runtime runs it on
random crops at each ``--check-batches`` size; the largest difference to PyTorch per output is
printed, and a difference above ``--tolerance`` exits 1 (the file is kept for inspection).
``--int8`` also writes a dynamically quantised copy (int8 MatMul / Gemm weights, see
``quantize_int8``) and prints how far its vertices (mm) or keypoints (px) are from PyTorch's (no tolerance: the cost
depends on the weights; measure it on a test set). Outputs go to temporary files beside their
destination, renamed when complete; existing outputs need ``--force``.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile

import numpy as np
from mmengine.config import DictAction

from postometro_mm.apis import init_model
from postometro_mm.apis.onnx_export import (crop_size, export_onnx, pytorch_outputs,
                                            quantize_int8)
from postometro_mm.apis.onnxruntime_model import onnxruntime_outputs
from postometro_mm.body_models.npz_io import plain_file_mode
from postometro_mm.utils.cli import refuse_overwrite, run_cli


def write_atomically(path: str, write) -> None:
    """Call ``write(tmp)`` for a temporary file beside ``path``, then rename it to ``path``."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.export.', suffix='.onnx', dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, plain_file_mode())  # mkstemp's files are private (0600)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.unlink(tmp)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out', help='output .onnx file')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--check-batches', type=int, nargs='+', default=[1, 3])
    parser.add_argument('--tolerance', type=float, default=1e-4)
    parser.add_argument('--int8', help='also write a dynamically quantised (int8) copy here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default=None)
    parser.add_argument('--unsafe-load', action='store_true',
                        help='unpickle the checkpoint in full (trusted files only)')
    parser.add_argument('--force', action='store_true', help='overwrite OUT')
    args = parser.parse_args(argv)
    refuse_overwrite(args.out, args.force)
    if args.int8:
        refuse_overwrite(args.int8, args.force)
    model = init_model(args.config, args.checkpoint, device='cpu', cfg_options=args.cfg_options,
                       unsafe_load=args.unsafe_load)
    size = crop_size(model)
    names = []
    write_atomically(args.out,
                     lambda tmp: names.extend(export_onnx(model, tmp, size, opset=args.opset)))
    print(f'wrote {args.out} (opset {args.opset}, crops {size[0]}x{size[1]}, dynamic batch; '
          f'outputs {", ".join(names)})')
    worst = 0.0
    rng = np.random.default_rng(0)
    for batch in args.check_batches:
        crops = rng.uniform(0, 255, (batch, 3, *size)).astype(np.float32)
        expected, got = pytorch_outputs(model, crops), onnxruntime_outputs(args.out, crops)
        diffs = {k: float(np.abs(expected[k] - got[k]).max()) for k in expected}
        worst = max(worst, *diffs.values())
        print(f'batch {batch}: max |ONNX Runtime - PyTorch| ' +
              ', '.join(f'{k} {v:.2e}' for k, v in diffs.items()))
    if args.int8:
        write_atomically(args.int8, lambda tmp: quantize_int8(args.out, tmp))
        crops = rng.uniform(0, 255, (max(args.check_batches), 3, *size)).astype(np.float32)
        expected, got = pytorch_outputs(model, crops), onnxruntime_outputs(args.int8, crops)
        key, unit, factor = (('vertices', 'mm', 1000.0) if 'vertices' in expected else
                             ('keypoints', 'px', 1.0))
        change = np.linalg.norm(expected[key] - got[key], axis=-1) * factor
        print(f'wrote {args.int8} (int8 MatMul / Gemm weights): {key} move by '
              f'{change.mean():.2f} {unit} on average, {change.max():.2f} {unit} at most, '
              f'against PyTorch fp32 on {len(crops)} random crops')
    if worst > args.tolerance:
        print(f'check failed: {worst:.2e} > --tolerance {args.tolerance:g}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main, 'pytorch2onnx'))
