"""Pinhole camera geometry shared by the converters, the renderer and the quickstart.

Camera frame as in OpenCV (and the predicted meshes): ``x`` right, ``y`` down, ``z`` forward
(depth, positive in front of the camera). A point ``(X, Y, Z)`` projects to the pixel
``u = fx * X / Z + cx``, ``v = fy * Y / Z + cy``.
"""
from typing import Sequence, Tuple, Union

import numpy as np

ArrayLike = Union[np.ndarray, Sequence[float]]


def _as_focal(focal_length: Union[float, ArrayLike]) -> Tuple[float, float]:
    focal = np.broadcast_to(np.asarray(focal_length, dtype=np.float64), (2, ))
    if np.any(focal <= 0):
        raise ValueError(f'focal_length must be positive, got {focal_length}')
    return float(focal[0]), float(focal[1])


def project_points(points: np.ndarray,
                   focal_length: Union[float, ArrayLike],
                   principal_point: ArrayLike) -> np.ndarray:
    """Perspective projection of camera-frame points to pixels.

    Args:
        points (np.ndarray): (..., 3) camera-frame points.
        focal_length (float | sequence): ``f`` or ``(fx, fy)`` in pixels.
        principal_point (sequence): ``(cx, cy)`` in pixels.

    Returns:
        np.ndarray: (..., 2) float64 pixels ``(u, v)``.
    """
    fx, fy = _as_focal(focal_length)
    cx, cy = np.asarray(principal_point, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64)
    z = points[..., 2]
    return np.stack([fx * points[..., 0] / z + cx, fy * points[..., 1] / z + cy], axis=-1)


def pinhole_parameters(intrinsics: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Focal lengths and principal point of a 3x3 pinhole intrinsics matrix.

    Args:
        intrinsics (np.ndarray): ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``.

    Returns:
        tuple: ``(fx, fy)`` and ``(cx, cy)``, float64 arrays of shape (2,).

    Raises:
        ValueError: if the matrix is not 3x3, has skew or a last row other than ``[0, 0, 1]``,
            or a non-positive focal length.
    """
    matrix = np.asarray(intrinsics, dtype=np.float64)
    if matrix.shape != (3, 3) or matrix[0, 1] != 0 or matrix[1, 0] != 0 or \
            not np.array_equal(matrix[2], [0.0, 0.0, 1.0]):
        raise ValueError(f'expected pinhole intrinsics [[fx, 0, cx], [0, fy, cy], [0, 0, 1]], '
                         f'got {matrix.tolist()}')
    focal = np.array([matrix[0, 0], matrix[1, 1]])
    _as_focal(focal)
    return focal, matrix[:2, 2].copy()
