"""Joint regressors: linear maps from mesh vertices to joints.

``J_regressor_extra.npy`` (14 x 6890) and ``J_regressor_h36m_correct.npy`` (17 x 6890) are
distributed with GraphCMR / METRO / FastMETRO / PostoMETRO; users provide them.
"""
import os
import os.path as osp

import numpy as np
import torch
from torch import Tensor

from .joint_sets import H36M17_TO_J14, SMPL38_TO_J24

REGRESSOR_SOURCE_HINT = (
    'Joint regressors (J_regressor_extra.npy, J_regressor_h36m_correct.npy) are not '
    'downloaded by postometro_mm; take them from the METRO / FastMETRO / PostoMETRO code '
    'releases (their data folders) and point the config to them.')


def load_joint_regressor(path: str) -> Tensor:
    """Load a (J, V) joint regressor saved with ``np.save`` (pickle-free).

    Args:
        path (str): the ``.npy`` file.

    Returns:
        Tensor: (J, V) float32.

    Raises:
        FileNotFoundError: naming the file and where it comes from.
        ValueError: if the file does not hold a 2-D numeric array.
    """
    path = os.fspath(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'joint regressor file {path} does not exist. '
                                f'{REGRESSOR_SOURCE_HINT}')
    array = np.load(path, allow_pickle=False)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f'{path}: a joint regressor is a (J, V) numeric array, got '
                         f'{array.dtype} {array.shape}')
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def regress_joints(vertices: Tensor, regressor: Tensor) -> Tensor:
    """Joints as linear combinations of vertices.

    Args:
        vertices (Tensor): (B, V, 3).
        regressor (Tensor): (J, V); moved to the vertices' device and dtype.

    Returns:
        Tensor: (B, J, 3).
    """
    if vertices.dim() != 3 or regressor.dim() != 2 or vertices.shape[1] != regressor.shape[1]:
        raise ValueError(f'regress_joints expects vertices (B, V, 3) and a regressor (J, V) with '
                         f'the same V, got {tuple(vertices.shape)} and {tuple(regressor.shape)}')
    regressor = regressor.to(device=vertices.device, dtype=vertices.dtype)
    return torch.einsum('jv,bvc->bjc', regressor, vertices)


def mesh_to_j14(vertices: Tensor, h36m_regressor: Tensor) -> Tensor:
    """The 14 evaluation joints: H36M17 joints regressed from the mesh, then ``H36M17_TO_J14``.

    Args:
        vertices (Tensor): (B, V, 3).
        h36m_regressor (Tensor): (17, V).

    Returns:
        Tensor: (B, 14, 3).
    """
    joints = regress_joints(vertices, h36m_regressor)
    return joints[:, torch.as_tensor(H36M17_TO_J14, device=joints.device)]


def mesh_to_j24(vertices: Tensor, smpl_joint_regressor: Tensor,
                extra_regressor: Tensor) -> Tensor:
    """METRO's 24 training joints from the mesh (24 SMPL + 14 extra joints, ``SMPL38_TO_J24``).

    Args:
        vertices (Tensor): (B, V, 3).
        smpl_joint_regressor (Tensor): (24, V), e.g. ``SMPL.joint_regressor``.
        extra_regressor (Tensor): (14, V), ``J_regressor_extra``.

    Returns:
        Tensor: (B, 24, 3) in J24 order.
    """
    joints = torch.cat([regress_joints(vertices, smpl_joint_regressor),
                        regress_joints(vertices, extra_regressor)], dim=1)
    if joints.shape[1] != 38:
        raise ValueError(f'mesh_to_j24 needs 24 SMPL + 14 extra regressor rows, got '
                         f'{smpl_joint_regressor.shape[0]} + {extra_regressor.shape[0]}')
    return joints[:, torch.as_tensor(SMPL38_TO_J24, device=joints.device)]
