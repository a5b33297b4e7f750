"""What the mesh heads (PostoMETRO / FastMETRO, VQ-HPS) share: labels stacked from the data
samples, the pelvis centring, the weak-perspective projection and the crop-to-image mapping of
projected points."""
from typing import Tuple

import numpy as np
import torch
from torch import Tensor

from mmpose.utils.typing import OptSampleList
from ...body_models.joint_regressors import regress_joints
from ...body_models.joint_sets import H36M17_PELVIS_INDEX, H36M17_TO_J14

#: The H36M-17 pelvis as a slice (indexing with it keeps the joint axis).
PELVIS = slice(H36M17_PELVIS_INDEX, H36M17_PELVIS_INDEX + 1)


def pelvis_and_joints(vertices: Tensor, h36m_regressor: Tensor) -> Tuple[Tensor, Tensor]:
    """The H36M pelvis of fine meshes and their J14 relative to it.

    Args:
        vertices (Tensor): (B, V, 3) meshes, m.
        h36m_regressor (Tensor): (17, V) H36M joint regressor.

    Returns:
        tuple[Tensor, Tensor]: pelvis (B, 1, 3) and pelvis-relative J14 (B, 14, 3).
    """
    h36m = regress_joints(vertices, h36m_regressor)
    pelvis = h36m[:, PELVIS]
    return pelvis, h36m[:, H36M17_TO_J14] - pelvis


def project_weak_perspective(points: Tensor, camera: Tensor) -> Tensor:
    """METRO/FastMETRO weak-perspective projection ``x = s * (X_xy + t)``.

    Args:
        points (Tensor): (B, N, 3) root-relative points, m.
        camera (Tensor): (B, 3) ``(s, tx, ty)``.
    Returns:
        Tensor: (B, N, 2) in normalised crop coordinates ([-1, 1] spans the crop).
    """
    return camera[:, None, :1] * (points[..., :2] + camera[:, None, 1:])


def stack_labels(batch_data_samples: OptSampleList, key: str, device: torch.device) -> Tensor:
    """Concatenate ``gt_instance_labels.<key>`` of every sample along the instance axis.

    Raises:
        ValueError: no data samples; KeyError: a sample lacks ``key`` (named with the keys it
            has).
    """
    if not batch_data_samples:
        raise ValueError('mesh head loss: needs batch_data_samples with gt_instance_labels')
    values = []
    for data_sample in batch_data_samples:
        labels = data_sample.gt_instance_labels
        if key not in labels:
            raise KeyError(f'mesh head: gt_instance_labels lacks "{key}" '
                           f'(has {sorted(labels.keys())}); pack it with PackMeshInputs')
        values.append(torch.as_tensor(labels.get(key)))
    return torch.cat(values).to(device)


def crop_to_image_px(points_norm: np.ndarray, metainfo: dict, owner: str) -> np.ndarray:
    """Points in normalised crop coordinates ([-1, 1] spans the crop) → original-image pixels,
    through the crop of the sample's metainfo (``input_size``, ``input_center``,
    ``input_scale``, set by the crop transform and packed by ``PackMeshInputs``), as mmpose
    codecs do (:func:`crop_fractions_to_image_px`).

    Args:
        points_norm (np.ndarray): (K, 2).
        metainfo (dict): the data sample's metainfo.
        owner (str): who asks, for the error message.

    Returns:
        np.ndarray: (K, 2) float32 image px.
    """
    _check_crop_metainfo(metainfo, ('input_size', 'input_center', 'input_scale'), owner)
    return crop_fractions_to_image_px((points_norm + 1.0) * 0.5, metainfo, owner)


def crop_fractions_to_image_px(fractions: np.ndarray, metainfo: dict, owner: str
                               ) -> np.ndarray:
    """Points as fractions [0, 1] of the crop's width and height → original-image pixels:
    ``input_center + (fraction - 0.5) · input_scale`` (test-time crops have no rotation).

    Args:
        fractions (np.ndarray): (K, 2).
        metainfo (dict): the data sample's metainfo (``input_center``, ``input_scale``).
        owner (str): who asks, for the error message.

    Returns:
        np.ndarray: (K, 2) float32 image px.
    """
    _check_crop_metainfo(metainfo, ('input_center', 'input_scale'), owner)
    center, scale = (np.asarray(metainfo[k], dtype=np.float32).reshape(2)
                     for k in ('input_center', 'input_scale'))
    return (center + (fractions - 0.5) * scale).astype(np.float32)


def _check_crop_metainfo(metainfo: dict, keys: Tuple[str, ...], owner: str) -> None:
    missing = [k for k in keys if k not in metainfo]
    if missing:
        raise KeyError(f'{owner}: data sample metainfo lacks {missing} (set by the crop '
                       'transform and packed by PackMeshInputs)')
