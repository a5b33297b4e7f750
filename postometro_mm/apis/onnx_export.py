"""ONNX export of the mesh estimators (PostoMETRO, FastMETRO) and of the PCT pose model (the
PostoMETRO tokenizer): crops in, predictions out.

Every exported graph takes (B, 3, H, W) float32 crops as the test pipeline packs them (BGR, 0 to
255) and applies the model's data preprocessor itself (channel order, mean, std), so an ONNX
Runtime user feeds the same crops as the PyTorch pipeline. The batch axis is dynamic.

Outputs of a mesh estimator (:class:`MeshModelForExport`): ``vertices`` (B, V, 3) and ``joints``
(B, 14, 3) in metres as the head predicts them (not yet pelvis-relative: the inference API centres
them), ``camera`` (B, 3) = (s, tx, ty) and, for models whose pose tokenizer feeds the neck
(:attr:`MeshEstimator.can_decode_pose`), ``decoded_keypoints`` (B, 17, 2): the 2D pose decoded
from the pose tokens the head consumed, as fractions [0, 1] of the crop width and height.

Outputs of a stage-2 PCT model (:class:`PCTModelForExport`): ``keypoints`` (B, K, 2) crop px and
``keypoint_scores`` (B, K) as :meth:`PCTHead.predict` gives them before the crop-to-image mapping,
and the pose tokens PostoMETRO consumes, ``pose_feats`` (B, N, D) and ``pose_scores`` (B, N, 1)
(:meth:`PCTPoseEstimator.tokenize`).
"""
import warnings
from typing import Dict, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from ..models.estimators.pct_estimator import PCTPoseEstimator

#: Name of the exported graphs' input.
INPUT_NAME = 'crops'
#: Outputs of every exported mesh estimator.
MESH_OUTPUTS = ('vertices', 'joints', 'camera')
#: The extra output of mesh estimators that can decode their pose tokens.
DECODED_POSE_OUTPUT = 'decoded_keypoints'
#: Outputs of an exported PCT model.
PCT_OUTPUTS = ('keypoints', 'keypoint_scores', 'pose_feats', 'pose_scores')


class _RawCropsModule(nn.Module):
    """Applies ``model.data_preprocessor`` (mmengine's ``ImgDataPreprocessor`` family: channel
    order, mean, std) to raw crops (B, 3, H, W) BGR 0-255."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        preprocessor = model.data_preprocessor
        self.bgr_to_rgb = bool(getattr(preprocessor, '_channel_conversion', False))
        self.normalize = bool(getattr(preprocessor, '_enable_normalize', False))

    def preprocess(self, crops: Tensor) -> Tensor:
        x = crops.float()
        if self.bgr_to_rgb:
            x = x[:, [2, 1, 0]]
        if self.normalize:
            preprocessor = self.model.data_preprocessor
            x = (x - preprocessor.mean) / preprocessor.std
        return x


class MeshModelForExport(_RawCropsModule):
    """A :class:`MeshEstimator` as one function of raw crops (module docstring): the
    operations of its ``'tensor'`` mode, plus the decoded pose when the model has one.

    Args:
        model (nn.Module): the estimator (eval mode).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model)
        self.decode_pose = bool(getattr(model, 'can_decode_pose', False))
        self.output_names = MESH_OUTPUTS + ((DECODED_POSE_OUTPUT, ) if self.decode_pose else ())

    def forward(self, crops: Tensor) -> Tuple[Tensor, ...]:
        x = self.preprocess(crops)
        feats = self.model.extract_feat(x)
        tokens = self.model.extract_pose_tokens(x, return_decoded_pose=self.decode_pose)
        if self.decode_pose:
            tokens, fractions = tokens
        out = self.model.head.forward(feats, tokens)
        outs = (out['pred_vertices'], out['pred_joints'], out['pred_cam'])
        return outs + (fractions, ) if self.decode_pose else outs


class PCTModelForExport(_RawCropsModule):
    """A stage-2 :class:`PCTPoseEstimator` as one function of raw crops (module docstring).

    Args:
        model (nn.Module): the estimator (eval mode, ``head.stage='classifier'``).
    """
    output_names = PCT_OUTPUTS

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model)
        if model.head.stage != 'classifier':
            raise ValueError('ONNX export of a PCT model needs its stage-2 (classifier) config, '
                             f'got head.stage={model.head.stage!r}: a stage-1 tokenizer takes '
                             'keypoints, not images')

    def forward(self, crops: Tensor) -> Tuple[Tensor, ...]:
        out = self.model.tokenize(self.preprocess(crops), decode=True)
        scores = self.model.head.keypoint_scores(out['pose_scores'])
        return out['keypoints'], scores, out['pose_feats'], out['pose_scores']


def export_module(model: nn.Module) -> nn.Module:
    """The export wrapper of a model: :class:`PCTModelForExport` for a ``PCTPoseEstimator``,
    else :class:`MeshModelForExport`; ``output_names`` names its outputs."""
    if isinstance(model, PCTPoseEstimator):
        return PCTModelForExport(model).eval()
    if not hasattr(model, 'extract_pose_tokens'):
        raise TypeError(f'ONNX export supports MeshEstimator (PostoMETRO, FastMETRO) and '
                        f'PCTPoseEstimator models, got {type(model).__name__}')
    return MeshModelForExport(model).eval()


def crop_size(model: nn.Module) -> Tuple[int, int]:
    """(H, W) of the crop transform of the test pipeline of ``model.cfg`` (the size to export
    at)."""
    for step in model.cfg.test_dataloader.dataset.pipeline:
        if 'input_size' in step:
            width, height = step['input_size']
            return int(height), int(width)
    raise KeyError('the config\'s test pipeline has no transform with input_size (the crop)')


def export_onnx(model: nn.Module, path: str, input_size: Sequence[int], opset: int = 17,
                trace_batch: int = 2) -> Tuple[str, ...]:
    """Export ``model`` to ``path`` (TorchScript-based exporter, dynamic batch).

    Args:
        model: a mesh estimator or a stage-2 PCT model in eval mode, on the CPU.
        path: output ``.onnx`` file.
        input_size: (H, W) of the crops.
        opset: ONNX opset.
        trace_batch: batch of the example input that is traced (any batch runs afterwards).

    Returns:
        tuple[str]: the graph's output names.
    """
    wrapper = export_module(model)
    names = wrapper.output_names
    example = torch.rand(trace_batch, 3, *input_size) * 255
    axes = {INPUT_NAME: {0: 'batch'}, **{name: {0: 'batch'} for name in names}}
    # Traced with gradients on: without them nn.MultiheadAttention takes its fused inference
    # kernel, which ONNX cannot express. The tracer warns about the models' input checks
    # (shapes compared with constants), which hold for every crop of this size.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(wrapper, (example, ), path, input_names=[INPUT_NAME],
                          output_names=list(names), dynamic_axes=axes, opset_version=opset,
                          dynamo=False)
    return names


@torch.no_grad()
def pytorch_outputs(model: nn.Module, crops: np.ndarray) -> Dict[str, np.ndarray]:
    """The exported outputs computed by PyTorch for (B, 3, H, W) raw crops."""
    wrapper = export_module(model)
    outs = wrapper(torch.from_numpy(crops))
    return {name: out.numpy() for name, out in zip(wrapper.output_names, outs)}


def quantize_int8(fp32_path: str, int8_path: str) -> None:
    """Dynamic int8 quantisation of the graph's MatMul / Gemm weights (the transformers', the
    SwinV2's and the MLPs'; convolutions stay fp32: ONNX Runtime's integer convolutions are
    slower than its fp32 ones on the CPU). Activations are quantised per call."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(fp32_path, int8_path, weight_type=QuantType.QInt8,
                     op_types_to_quantize=['MatMul', 'Gemm'])
