"""Random plausible SMPL parameters: joint-limit-aware body poses, camera-frame global
orientations, shapes and genders.

Joint rotations are sampled as Euler angles inside per-joint, per-axis limits
(:data:`JOINT_LIMITS_DEG`) in SMPL's joint frames (the template frame of the rest pose:
``+x`` the subject's left, ``+y`` up, ``+z`` forward) and composed extrinsically, x first,
then y, then z: ``R = Rz(z) @ Ry(y) @ Rx(x)``. With that order the angles read naturally:

* legs (pointing down): ``x`` flexes (negative: thigh forward; positive at the knee: shin
  backward), ``y`` twists, ``z`` abducts (positive: left leg outwards);
* arms (pointing sideways): ``x`` twists about the arm, ``y`` swings it horizontally
  (negative: left arm forward), ``z`` raises or lowers it (negative: left arm down);
* spine, neck and head: ``x`` bends forward, ``y`` turns, ``z`` leans sideways.

Only the left side and the centre line are tabulated; a right joint takes its mirror twin's
limits with the y and z ranges negated (the mirror map of :func:`flip_smpl_pose`).
"""
from typing import Dict, Optional, Tuple

import numpy as np

from postometro_mm.body_models.joint_sets import SMPL24_FLIP_PERM, SMPL24_NAMES

AxisRange = Tuple[float, float, float]

#: (x, y, z) axis ranges (lowest, most likely, highest) in degrees of the left and central
#: SMPL joints (pelvis: see :func:`sample_global_orient`). An angle is drawn from a split
#: normal: a half-normal on each side of the most likely value with a standard deviation of a
#: third of that side, truncated to the range.
JOINT_LIMITS_DEG: Dict[str, Tuple[AxisRange, AxisRange, AxisRange]] = {
    'spine1': ((-10.0, 3.0, 30.0), (-15.0, 0.0, 15.0), (-10.0, 0.0, 10.0)),
    'spine2': ((-10.0, 3.0, 20.0), (-15.0, 0.0, 15.0), (-10.0, 0.0, 10.0)),
    'spine3': ((-10.0, 3.0, 20.0), (-15.0, 0.0, 15.0), (-10.0, 0.0, 10.0)),
    'neck': ((-20.0, 5.0, 35.0), (-30.0, 0.0, 30.0), (-15.0, 0.0, 15.0)),
    'head': ((-20.0, 0.0, 25.0), (-40.0, 0.0, 40.0), (-15.0, 0.0, 15.0)),
    'left_hip': ((-100.0, -10.0, 25.0), (-30.0, 0.0, 35.0), (-15.0, 5.0, 45.0)),
    'left_knee': ((0.0, 10.0, 140.0), (-5.0, 0.0, 5.0), (-5.0, 0.0, 5.0)),
    'left_ankle': ((-20.0, 0.0, 40.0), (-15.0, 0.0, 15.0), (-15.0, 0.0, 15.0)),
    'left_foot': ((-10.0, 0.0, 20.0), (-5.0, 0.0, 5.0), (-5.0, 0.0, 5.0)),
    'left_collar': ((-10.0, 0.0, 10.0), (-15.0, 0.0, 15.0), (-10.0, 0.0, 20.0)),
    'left_shoulder': ((-60.0, 0.0, 60.0), (-85.0, -10.0, 40.0), (-85.0, -55.0, 60.0)),
    'left_elbow': ((-30.0, 0.0, 30.0), (-145.0, -25.0, 0.0), (-5.0, 0.0, 5.0)),
    'left_wrist': ((-40.0, 0.0, 40.0), (-30.0, 0.0, 30.0), (-60.0, 0.0, 60.0)),
    'left_hand': ((-10.0, 0.0, 10.0), (-10.0, 0.0, 10.0), (-10.0, 0.0, 10.0)),
}

#: Betas are drawn from N(0, 1) and clipped to this magnitude.
BETAS_CLIP = 2.5


def joint_limits() -> np.ndarray:
    """(24, 3, 3) lowest / most likely / highest Euler angles in radians of every SMPL joint
    (row 0, the root, is zero: the global orientation is sampled separately)."""
    limits = np.zeros((24, 3, 3))
    for name, ranges in JOINT_LIMITS_DEG.items():
        index = SMPL24_NAMES.index(name)
        limits[index] = np.deg2rad(np.asarray(ranges))
        twin = int(SMPL24_FLIP_PERM[index])
        if twin != index:
            limits[twin, 0] = limits[index, 0]
            limits[twin, 1:] = -limits[index, 1:, ::-1]
    missing = [SMPL24_NAMES[i] for i in range(1, 24) if not limits[i].any()]
    if missing:
        raise ValueError(f'JOINT_LIMITS_DEG has no limits for {missing}')
    if np.any(np.diff(limits, axis=-1) < 0):
        raise ValueError('JOINT_LIMITS_DEG: every axis needs lowest <= most likely <= highest')
    return limits


def euler_xyz_to_matrix(angles: np.ndarray) -> np.ndarray:
    """Rotation matrices ``Rz(z) @ Ry(y) @ Rx(x)`` of Euler angles (..., 3) radians ->
    (..., 3, 3)."""
    angles = np.asarray(angles, dtype=np.float64)
    cx, cy, cz = np.cos(angles[..., 0]), np.cos(angles[..., 1]), np.cos(angles[..., 2])
    sx, sy, sz = np.sin(angles[..., 0]), np.sin(angles[..., 1]), np.sin(angles[..., 2])
    matrix = np.empty(angles.shape[:-1] + (3, 3))
    matrix[..., 0, 0] = cz * cy
    matrix[..., 0, 1] = cz * sy * sx - sz * cx
    matrix[..., 0, 2] = cz * sy * cx + sz * sx
    matrix[..., 1, 0] = sz * cy
    matrix[..., 1, 1] = sz * sy * sx + cz * cx
    matrix[..., 1, 2] = sz * sy * cx - cz * sx
    matrix[..., 2, 0] = -sy
    matrix[..., 2, 1] = cy * sx
    matrix[..., 2, 2] = cy * cx
    return matrix


def matrix_to_axis_angle(matrix: np.ndarray) -> np.ndarray:
    """Axis-angle vectors (..., 3) of rotation matrices (..., 3, 3) (angle in [0, pi])."""
    matrix = np.asarray(matrix, dtype=np.float64)
    cos = np.clip((np.trace(matrix, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    skew = np.stack([matrix[..., 2, 1] - matrix[..., 1, 2], matrix[..., 0, 2] - matrix[..., 2, 0],
                     matrix[..., 1, 0] - matrix[..., 0, 1]], axis=-1)
    sin = np.sin(angle)
    out = np.zeros(matrix.shape[:-2] + (3, ))
    regular = sin > 1e-6
    out[regular] = skew[regular] * (angle[regular] / (2.0 * sin[regular]))[..., None]
    # Near pi the skew part vanishes: the axis is the dominant column of (R + I) / 2.
    flip = ~regular & (cos < 0)
    if flip.any():
        sym = (matrix[flip] + np.eye(3)) / 2.0
        column = np.argmax(np.diagonal(sym, axis1=-2, axis2=-1), axis=-1)
        axis = sym[np.arange(len(column)), :, column]
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        out[flip] = axis * angle[flip][..., None]
    return out


def axis_angle_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of axis-angle vectors (..., 3) (Rodrigues)."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
    axis = rotvec / np.maximum(angle, 1e-12)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    skew = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(
        rotvec.shape[:-1] + (3, 3))
    sin, cos = np.sin(angle)[..., None], np.cos(angle)[..., None]
    return np.eye(3) + sin * skew + (1.0 - cos) * (skew @ skew)


def _split_normal(rng: np.random.Generator, limits: np.ndarray, spread: float) -> np.ndarray:
    """Angles (...,) from the split normal of ``limits`` (..., 3) (table docstring), with the
    standard deviations scaled by ``spread``; out-of-range draws are redrawn."""
    low, mode, high = limits[..., 0], limits[..., 1], limits[..., 2]

    def draw() -> np.ndarray:
        below = rng.random(mode.shape) < 0.5
        std = spread * np.where(below, mode - low, high - mode) / 3.0
        offset = np.abs(rng.normal(size=mode.shape)) * std
        return np.where(below, mode - offset, mode + offset)

    values = draw()
    bad = (values < low) | (values > high)
    while bad.any():
        values = np.where(bad, draw(), values)
        bad = (values < low) | (values > high)
    return values


def sample_joint_angles(rng: np.random.Generator, spread: float = 1.0) -> np.ndarray:
    """(24, 3) Euler angles in radians within :func:`joint_limits` (row 0 zero).

    Args:
        rng: random generator.
        spread: scales the standard deviations (0: every joint at its most likely angle).
    """
    angles = np.zeros((24, 3))
    angles[1:] = _split_normal(rng, joint_limits()[1:], spread)
    return angles


def sample_body_pose(rng: np.random.Generator, spread: float = 1.0) -> np.ndarray:
    """(69,) axis-angle SMPL body pose (joints 1..23) within the joint limits."""
    angles = sample_joint_angles(rng, spread)
    return matrix_to_axis_angle(euler_xyz_to_matrix(angles[1:])).reshape(69)


def upright_orientation(yaw: float, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """Camera-frame (x right, y down, z forward) rotation of a body turned by ``yaw`` about
    its own vertical axis (0: facing the camera), then tilted by ``pitch`` about the camera
    x axis and ``roll`` about the camera z axis (radians). Returns (3, 3)."""
    facing_camera = np.diag([1.0, -1.0, -1.0])  # template up -> image up, forward -> camera
    turn = euler_xyz_to_matrix(np.array([0.0, yaw, 0.0]))
    tilt = euler_xyz_to_matrix(np.array([pitch, 0.0, roll]))
    return tilt @ facing_camera @ turn


def sample_global_orient(rng: np.random.Generator, yaw_std_deg: Optional[float] = None,
                         tilt_std_deg: float = 8.0, tilt_max_deg: float = 25.0) -> np.ndarray:
    """(3,) axis-angle camera-frame global orientation of a mostly upright person.

    The yaw (turn about the body's vertical axis, 0 = facing the camera) is uniform over the
    circle by default (people walk in every direction, as in 3DPW), or N(0, ``yaw_std_deg``)
    wrapped to (-180, 180] degrees (70: mostly facing the camera, a fifth seen from behind).
    Pitch and roll are N(0, ``tilt_std_deg``) clipped to ``tilt_max_deg``.
    """
    if yaw_std_deg is None:
        yaw = rng.uniform(-np.pi, np.pi)
    else:
        yaw = np.deg2rad(rng.normal(0.0, yaw_std_deg))
        yaw = (yaw + np.pi) % (2 * np.pi) - np.pi
    pitch, roll = np.deg2rad(np.clip(rng.normal(0.0, tilt_std_deg, size=2), -tilt_max_deg,
                                     tilt_max_deg))
    return matrix_to_axis_angle(upright_orientation(yaw, pitch, roll))


def sample_betas(rng: np.random.Generator, num_betas: int = 10) -> np.ndarray:
    """(num_betas,) shape coefficients, N(0, 1) clipped to +-:data:`BETAS_CLIP`."""
    return np.clip(rng.normal(size=num_betas), -BETAS_CLIP, BETAS_CLIP)


def sample_gender(rng: np.random.Generator) -> str:
    """'m' or 'f' with equal probability (3DPW's gender codes)."""
    return 'm' if rng.random() < 0.5 else 'f'
