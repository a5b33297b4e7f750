"""Rotation representations in torch (batched, differentiable)."""
import torch
import torch.nn.functional as F
from smplx.lbs import batch_rodrigues
from torch import Tensor


def rotation_6d_to_matrix(d6: Tensor) -> Tensor:
    """Continuous 6D rotation (Zhou et al., CVPR 2019) -> rotation matrix by Gram-Schmidt:
    ``b1 = a1 / |a1|``, ``b2`` = ``a2`` minus its ``b1`` component, normalised,
    ``b3 = b1 x b2``; the rows of the matrix are ``b1, b2, b3`` (pytorch3d's convention).

    Args:
        d6 (Tensor): (..., 6) = ``a1`` (first 3) and ``a2`` (last 3).

    Returns:
        Tensor: (..., 3, 3).
    """
    a1, a2 = d6[..., :3], d6[..., 3:]
    b1 = F.normalize(a1, dim=-1)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=-1)], dim=-2)


def axis_angle_to_matrix(axis_angle: Tensor) -> Tensor:
    """(..., 3) axis-angle (radians) -> (..., 3, 3) rotation matrices (Rodrigues)."""
    flat = axis_angle.reshape(-1, 3)
    return batch_rodrigues(flat).reshape(*axis_angle.shape[:-1], 3, 3)
