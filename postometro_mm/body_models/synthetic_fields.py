"""Per-vertex fields of the synthetic SMPL model: shape and pose blend shapes, mirroring.

Everything here works on any template (the procedural tube body or SMPL's real topology)
given per-vertex ``radial`` offsets from the bone axis and a coarse body ``part`` label.
"""
from typing import Tuple

import numpy as np

from .joint_sets import SMPL24_FLIP_PERM, SMPL24_PARENTS
from .synthetic_geometry import FLOOR_Y

PARTS: Tuple[str, ...] = ('torso', 'head', 'leg', 'arm')
#: Body part of each SMPL joint's bone (collars count as arm).
JOINT_PARTS = np.array([PARTS.index(p) for p in (
    'torso', 'leg', 'leg', 'torso', 'leg', 'leg', 'torso', 'leg', 'leg', 'torso', 'leg', 'leg',
    'head', 'arm', 'arm', 'head', 'arm', 'arm', 'arm', 'arm', 'arm', 'arm', 'arm', 'arm')])
NUM_BETAS = 10
_MIRROR = np.array([-1.0, 1.0, 1.0])


def shape_directions(vertices: np.ndarray, radial: np.ndarray, part: np.ndarray,
                     joints: np.ndarray) -> np.ndarray:
    """Ten shape blend shapes (metres per unit beta), mirror-symmetric by construction.

    0 height, 1 girth, 2 shoulder breadth, 3 leg length, 4 arm length, 5 hip breadth,
    6 belly, 7 torso length, 8 head size, 9 limb thickness.

    Args:
        vertices (np.ndarray): (V, 3) template.
        radial (np.ndarray): (V, 3) offset of each vertex from its bone axis.
        part (np.ndarray): (V,) index into ``PARTS``.
        joints (np.ndarray): (24, 3) rest joints of the template.

    Returns:
        np.ndarray: (V, 3, 10) shapedirs.
    """
    dirs = np.zeros((len(vertices), 3, NUM_BETAS))
    x, y = vertices[:, 0], vertices[:, 1]
    side = np.sign(x)
    torso, head, leg, arm = (part == PARTS.index(p) for p in PARTS)
    limb = leg | arm
    y_pelvis, y_spine1, y_spine3, y_neck = joints[[0, 3, 9, 12], 1]
    y_hip, x_collar, y_collar = joints[1, 1], abs(joints[13, 0]), joints[13, 1]
    dirs[:, 1, 0] = 0.05 * (y - FLOOR_Y)
    dirs[:, :, 1] = np.where(head[:, None], 0.03, 0.10) * radial
    chest = torso & (y > y_spine3) & (y < y_neck)
    dirs[arm, 0, 2] = 0.025 * side[arm]
    dirs[chest, 0, 2] = 0.15 * radial[chest, 0]
    dirs[leg, 1, 3] = 0.08 * (y[leg] - y_hip)
    dirs[arm, 0, 4] = 0.08 * (x[arm] - side[arm] * x_collar)
    hips = torso & (y < y_spine1)
    dirs[leg, 0, 5] = 0.02 * side[leg]
    dirs[hips, 0, 5] = 0.12 * radial[hips, 0]
    belly = torso & (y > y_spine1) & (y < y_spine3)
    bump = np.sin(np.pi * (y[belly] - y_spine1) / (y_spine3 - y_spine1))
    dirs[belly, 2, 6] = 0.25 * np.maximum(radial[belly, 2], 0.0) * bump
    upper = (torso | head) & (y > y_pelvis)
    dirs[upper, 1, 7] = 0.06 * (np.minimum(y[upper], y_neck) - y_pelvis)
    dirs[arm, 1, 7] = 0.06 * (y_collar - y_pelvis)
    dirs[head, :, 8] = 0.12 * radial[head]
    dirs[head, 1, 8] += 0.10 * (y[head] - y_neck)
    dirs[limb, :, 9] = 0.15 * radial[limb]
    return dirs


def pose_directions(weights: np.ndarray, rng: np.random.Generator,
                    scale: float = 0.003) -> np.ndarray:
    """Small pose-corrective blend shapes (V, 3, 207), local to each joint's skin region.

    Column ``9 (j - 1) + m`` responds to entry m of ``R_j - I``; each joint moves the
    vertices it (or its parent) skins along one random direction per entry.
    """
    parents = np.array(SMPL24_PARENTS)
    influence = weights[:, 1:] + 0.5 * weights[:, parents[1:]]
    directions = rng.standard_normal((23, 9, 3)) * scale
    dirs = np.einsum('vj,jmc->vcjm', influence, directions)
    return dirs.reshape(len(weights), 3, 207)


def symmetrize_template(vertices: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """Average (V, 3) points with their mirror image ``M v[mirror]`` (M = diag(-1, 1, 1));
    the result is exactly mirror-symmetric (``mirror`` is an involution)."""
    return 0.5 * (vertices + vertices[mirror] * _MIRROR)


def symmetrize_shapedirs(shapedirs: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """Same for (V, 3, K) shape blend shapes."""
    return 0.5 * (shapedirs + shapedirs[mirror] * _MIRROR[None, :, None])


def symmetrize_posedirs(posedirs: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """Make pose blend shapes mirror-equivariant.

    Mirroring maps ``R_j - I`` to ``M (R_j - I) M`` on joint ``flip(j)``, so the invariant
    blend shapes satisfy ``P[v, c, (j, a, b)] = m_c m_a m_b P[mirror(v), c, (flip(j), a, b)]``.
    """
    num_verts = len(posedirs)
    blocks = posedirs.reshape(num_verts, 3, 23, 3, 3)
    joint_perm = SMPL24_FLIP_PERM[1:] - 1
    signs = (_MIRROR[None, :, None, None, None] * _MIRROR[None, None, None, :, None] *
             _MIRROR[None, None, None, None, :])
    mirrored = blocks[mirror][:, :, joint_perm] * signs
    return (0.5 * (blocks + mirrored)).reshape(num_verts, 3, 207)
