"""ONNX export of the mesh estimators (PostoMETRO, FastMETRO): crops in, mesh out.

The exported graph takes (B, 3, H, W) float32 crops as ``PackMeshInputs`` packs them (BGR, 0 to
255) and applies the model's data preprocessor itself (channel order, mean, std), so an ONNX
Runtime user feeds the same crops as the PyTorch pipeline. Outputs: ``vertices`` (B, V, 3) and
``joints`` (B, 14, 3) in metres as the head predicts them (not yet pelvis-relative: the inference
API centres them), and ``camera`` (B, 3) = (s, tx, ty). The batch axis is dynamic.
"""
import warnings
from typing import Dict, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

#: Names of the exported graph's input and outputs.
INPUT_NAME = 'crops'
OUTPUT_NAMES = ('vertices', 'joints', 'camera')


class MeshModelForExport(nn.Module):
    """A :class:`MeshEstimator` as one function of raw crops (module docstring).

    Args:
        model (nn.Module): the estimator (eval mode), with a ``data_preprocessor`` of mmengine's
            ``ImgDataPreprocessor`` family.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        preprocessor = model.data_preprocessor
        self.bgr_to_rgb = bool(getattr(preprocessor, '_channel_conversion', False))
        self.normalize = bool(getattr(preprocessor, '_enable_normalize', False))

    def forward(self, crops: Tensor):
        x = crops.float()
        if self.bgr_to_rgb:
            x = x[:, [2, 1, 0]]
        if self.normalize:
            preprocessor = self.model.data_preprocessor
            x = (x - preprocessor.mean) / preprocessor.std
        out = self.model(x, mode='tensor')
        return out['pred_vertices'], out['pred_joints'], out['pred_cam']


def crop_size(model: nn.Module) -> Tuple[int, int]:
    """(H, W) of the crop transform of the test pipeline of ``model.cfg`` (the size to export
    at)."""
    for step in model.cfg.test_dataloader.dataset.pipeline:
        if 'input_size' in step:
            width, height = step['input_size']
            return int(height), int(width)
    raise KeyError('the config\'s test pipeline has no transform with input_size (the crop)')


def export_onnx(model: nn.Module, path: str, input_size: Sequence[int], opset: int = 17,
                trace_batch: int = 2) -> None:
    """Export ``model`` to ``path`` (TorchScript-based exporter, dynamic batch).

    Args:
        model: a mesh estimator in eval mode, on the CPU.
        path: output ``.onnx`` file.
        input_size: (H, W) of the crops.
        opset: ONNX opset.
        trace_batch: batch of the example input that is traced (any batch runs afterwards).
    """
    wrapper = MeshModelForExport(model).eval()
    example = torch.rand(trace_batch, 3, *input_size) * 255
    axes = {INPUT_NAME: {0: 'batch'}, **{name: {0: 'batch'} for name in OUTPUT_NAMES}}
    # Traced with gradients on: without them nn.MultiheadAttention takes its fused inference
    # kernel, which ONNX cannot express. The tracer warns about the models' input checks
    # (shapes compared with constants), which hold for every crop of this size.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(wrapper, (example, ), path, input_names=[INPUT_NAME],
                          output_names=list(OUTPUT_NAMES), dynamic_axes=axes,
                          opset_version=opset, dynamo=False)


@torch.no_grad()
def pytorch_outputs(model: nn.Module, crops: np.ndarray) -> Dict[str, np.ndarray]:
    """The exported outputs computed by PyTorch for (B, 3, H, W) raw crops."""
    outs = MeshModelForExport(model).eval()(torch.from_numpy(crops))
    return {name: out.numpy() for name, out in zip(OUTPUT_NAMES, outs)}


def quantize_int8(fp32_path: str, int8_path: str) -> None:
    """Dynamic int8 quantisation of the graph's MatMul / Gemm weights (the transformers', the
    SwinV2's and the MLPs'; convolutions stay fp32: ONNX Runtime's integer convolutions are
    slower than its fp32 ones on the CPU). Activations are quantised per call."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(fp32_path, int8_path, weight_type=QuantType.QInt8,
                     op_types_to_quantize=['MatMul', 'Gemm'])
