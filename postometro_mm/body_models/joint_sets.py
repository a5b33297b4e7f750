"""Joint sets used by mesh recovery: names, index tables between sets and flip permutations.

Conventions (SMPL template frame): ``+x`` is the subject's left, ``+y`` up, ``+z`` forward.

* ``SMPL24``: the 24 kinematic joints of SMPL (``J_regressor``).
* ``SMPL_EXTRA14``: the 14 joints of ``J_regressor_extra.npy`` (GraphCMR / METRO / FastMETRO).
* ``J24``: METRO's training joint set, built from the mesh as SMPL24 + SMPL_EXTRA14 (38 joints)
  indexed by ``SMPL38_TO_J24``.
* ``J14``: LSP-style evaluation joints (J24 indices 0..12 and 18).
* ``H36M17``: joints of ``J_regressor_h36m_correct.npy``; index 0 (pelvis) is the root.
* ``COCO17``: the MS-COCO keypoint order used by mmpose.

Flip permutations map every joint to its mirror twin (left <-> right); they are involutions.
"""
from typing import Sequence, Tuple, Union

import numpy as np
import torch

SMPL24_NAMES: Tuple[str, ...] = (
    'pelvis', 'left_hip', 'right_hip', 'spine1', 'left_knee', 'right_knee', 'spine2',
    'left_ankle', 'right_ankle', 'spine3', 'left_foot', 'right_foot', 'neck', 'left_collar',
    'right_collar', 'head', 'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hand', 'right_hand')

#: Parent of each SMPL joint in the kinematic tree (-1 for the root).
SMPL24_PARENTS: Tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

SMPL_EXTRA14_NAMES: Tuple[str, ...] = (
    'Nose', 'R_Eye', 'L_Eye', 'R_Ear', 'L_Ear', 'R_Hip', 'L_Hip', 'Neck', 'Top_of_Head',
    'Pelvis', 'Thorax', 'Spine', 'Jaw', 'Head')

J24_NAMES: Tuple[str, ...] = (
    'R_Ankle', 'R_Knee', 'R_Hip', 'L_Hip', 'L_Knee', 'L_Ankle', 'R_Wrist', 'R_Elbow',
    'R_Shoulder', 'L_Shoulder', 'L_Elbow', 'L_Wrist', 'Neck', 'Top_of_Head', 'Pelvis', 'Thorax',
    'Spine', 'Jaw', 'Head', 'Nose', 'L_Eye', 'R_Eye', 'L_Ear', 'R_Ear')

H36M17_NAMES: Tuple[str, ...] = (
    'Pelvis', 'R_Hip', 'R_Knee', 'R_Ankle', 'L_Hip', 'L_Knee', 'L_Ankle', 'Torso', 'Neck',
    'Nose', 'Head', 'L_Shoulder', 'L_Elbow', 'L_Wrist', 'R_Shoulder', 'R_Elbow', 'R_Wrist')

COCO17_NAMES: Tuple[str, ...] = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
    'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
    'left_knee', 'right_knee', 'left_ankle', 'right_ankle')

#: Rows of ``cat([SMPL24 joints, SMPL_EXTRA14 joints])`` that form J24 (METRO's ``JOINTS_IDX``).
SMPL38_TO_J24 = np.array(
    [8, 5, 29, 30, 4, 7, 21, 19, 17, 16, 18, 20, 31, 32, 33, 34, 35, 36, 37, 24, 26, 25, 28, 27],
    dtype=np.int64)
J24_TO_J14 = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 18], dtype=np.int64)
H36M17_TO_J14 = np.array([3, 2, 1, 4, 5, 6, 16, 15, 14, 11, 12, 13, 8, 10], dtype=np.int64)
J24_TO_COCO17 = np.array(
    [19, 20, 21, 22, 23, 9, 8, 10, 7, 11, 6, 3, 2, 4, 1, 5, 0], dtype=np.int64)

J14_NAMES: Tuple[str, ...] = tuple(J24_NAMES[i] for i in J24_TO_J14)

#: Root index of H36M17 (pelvis); J14's mid-hip is the mean of ``J14_HIP_INDICES``.
H36M17_PELVIS_INDEX = 0
J14_HIP_INDICES = (2, 3)

_SIDE_PREFIXES = (('L_', 'R_'), ('left_', 'right_'))


def mirror_joint_name(name: str) -> str:
    """Name of the mirror twin of a joint ('L_Hip' <-> 'R_Hip', 'left_x' <-> 'right_x')."""
    for left, right in _SIDE_PREFIXES:
        if name.startswith(left):
            return right + name[len(left):]
        if name.startswith(right):
            return left + name[len(right):]
    return name


def flip_permutation(names: Sequence[str]) -> np.ndarray:
    """Permutation ``perm`` with ``names[perm[i]] == mirror_joint_name(names[i])``.

    Raises:
        ValueError: if a sided joint has no twin in ``names``.
    """
    index = {name: i for i, name in enumerate(names)}
    perm = []
    for name in names:
        twin = mirror_joint_name(name)
        if twin not in index:
            raise ValueError(f'joint {name!r} has no mirror twin {twin!r} in {tuple(names)}')
        perm.append(index[twin])
    return np.array(perm, dtype=np.int64)


SMPL24_FLIP_PERM = flip_permutation(SMPL24_NAMES)
SMPL_EXTRA14_FLIP_PERM = flip_permutation(SMPL_EXTRA14_NAMES)
J24_FLIP_PERM = flip_permutation(J24_NAMES)
J14_FLIP_PERM = flip_permutation(J14_NAMES)
H36M17_FLIP_PERM = flip_permutation(H36M17_NAMES)
COCO17_FLIP_PERM = flip_permutation(COCO17_NAMES)

ArrayLike = Union[np.ndarray, torch.Tensor]


def flip_smpl_pose(pose: ArrayLike) -> ArrayLike:
    """Mirror SMPL axis-angle poses across the x = 0 plane (the subject's left <-> right).

    Each joint's rotation moves to its mirror twin (``SMPL24_FLIP_PERM``) and its y and z
    axis-angle components change sign, i.e. ``R -> M R M`` with ``M = diag(-1, 1, 1)``.
    The global orientation (joint 0) is mirrored the same way. Applying it twice is the
    identity.

    Args:
        pose (np.ndarray | torch.Tensor): (..., 72) axis-angle poses, global orientation first.

    Returns:
        np.ndarray | torch.Tensor: mirrored poses, same type, shape and dtype (a new array).
    """
    if pose.shape[-1] != 72:
        raise ValueError(f'flip_smpl_pose expects (..., 72) axis-angle poses, got shape '
                         f'{tuple(pose.shape)}')
    joints = pose.reshape(*pose.shape[:-1], 24, 3)
    if isinstance(pose, torch.Tensor):
        perm = torch.as_tensor(SMPL24_FLIP_PERM, device=pose.device)
        signs = torch.tensor([1.0, -1.0, -1.0], dtype=pose.dtype, device=pose.device)
        flipped = joints.index_select(-2, perm) * signs
    else:
        signs = np.array([1.0, -1.0, -1.0], dtype=pose.dtype)
        flipped = joints[..., SMPL24_FLIP_PERM, :] * signs
    return flipped.reshape(pose.shape)
