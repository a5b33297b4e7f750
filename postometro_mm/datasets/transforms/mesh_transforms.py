"""Mesh-aware crop and augmentations: every transform keeps image, 2D joints, 3D joints, SMPL
pose and camera consistent with each other.

Conventions: image/pixel coordinates have x to the right and y down, pixel centres at
integers; the camera frame has X right, Y down, Z forward (OpenCV), so an in-plane image
rotation is a rotation of the camera frame about Z and a horizontal image flip is X → −X.
``cam_intrinsics`` (when present) is the 3×3 matrix P with ``pixel ~ P @ X``; the transforms
update it so that projecting the transformed ``joints_3d`` still lands on the transformed 2D
joints (after a rotation P is a general projective 3×3, not an upper-triangular K).
FastMETRO's recipe (SPEC §4.6): :class:`MeshRandomFlip` (p 0.5), :class:`MeshPixelNoise`
(×U[0.6, 1.4]), :class:`MeshRandomRotation` (N(0, 30°) clipped ±60°, 0 with p 0.6),
:class:`MeshRandomScale` (N(1, 0.25) clipped [0.75, 1.25]); the last two only sample
parameters that :class:`MeshTopdownAffine` applies in its single warp.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS
from mmpose.structures.bbox import get_warp_matrix
from scipy.spatial.transform import Rotation

from postometro_mm.body_models.joint_sets import (COCO17_FLIP_PERM, J24_FLIP_PERM,
                                                  flip_smpl_pose)


def rotate_global_orient(smpl_pose: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Left-multiply the global orientation (first 3 values, axis-angle) of (…, 72) poses."""
    pose = np.array(smpl_pose, dtype=np.float32, copy=True)
    flat = pose.reshape(-1, 72)
    orient = Rotation.from_matrix(rotation) * Rotation.from_rotvec(flat[:, :3].astype(np.float64))
    flat[:, :3] = orient.as_rotvec()
    return flat.reshape(pose.shape)


def _affine_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2×3 affine matrix to points (…, 2)."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def _as_3x3(affine: np.ndarray) -> np.ndarray:
    return np.vstack([affine, [0.0, 0.0, 1.0]])


@TRANSFORMS.register_module()
class MeshTopdownAffine(BaseTransform):
    """Crop the person box to ``input_size`` with one affine warp applied to everything.

    The warp maps ``bbox_center`` to the crop centre and a ``bbox_scale`` box (aspect ratio
    fixed to ``input_size`` by enlarging one side, as mmpose does) to the whole crop, rotated
    by ``bbox_rotation`` degrees when present (set by :class:`MeshRandomRotation`). The same
    matrix M moves the image, ``keypoints`` and ``joints_2d``; its rotation part R (about the
    camera Z axis) rotates ``joints_3d`` and the SMPL global orientation, and
    ``cam_intrinsics`` becomes ``M @ P @ Rᵀ``. ``bbox``/``bbox_center``/``bbox_scale`` stay in
    original-image pixels (they describe the crop, as ``input_center``/``input_scale`` do).

    Required keys: img, bbox_center, bbox_scale. Modified keys: img, img_shape, keypoints,
    joints_2d, joints_3d, smpl_pose, cam_intrinsics, bbox_scale. Added keys: input_size,
    input_center, input_scale, crop_matrix (2×3).

    Args:
        input_size (tuple[int, int]): crop (w, h) in pixels. Default (256, 256).
    """

    def __init__(self, input_size: Tuple[int, int] = (256, 256)) -> None:
        super().__init__()
        if len(input_size) != 2 or min(input_size) <= 0:
            raise ValueError(f'input_size should be (w, h) > 0, got {input_size}')
        self.input_size = (int(input_size[0]), int(input_size[1]))

    @staticmethod
    def _fix_aspect_ratio(bbox_scale: np.ndarray, aspect_ratio: float) -> np.ndarray:
        w, h = np.hsplit(bbox_scale, [1])
        return np.where(w > h * aspect_ratio, np.hstack([w, w / aspect_ratio]),
                        np.hstack([h * aspect_ratio, h]))

    def transform(self, results: dict) -> dict:
        w, h = self.input_size
        scale = self._fix_aspect_ratio(np.asarray(results['bbox_scale'], np.float32), w / h)
        center = np.asarray(results['bbox_center'], np.float32)[0]
        rot = float(results['bbox_rotation'][0]) if 'bbox_rotation' in results else 0.0
        matrix = get_warp_matrix(center, scale[0], rot, output_size=(w, h)).astype(np.float64)

        results['img'] = cv2.warpAffine(results['img'], matrix, (w, h), flags=cv2.INTER_LINEAR)
        results['img_shape'] = (h, w)
        for key in ('keypoints', 'joints_2d'):
            if key in results:
                results[key] = _affine_points(results[key], matrix).astype(np.float32)

        # The warp's linear part is s·R; R (the polar factor) is the in-plane rotation.
        u, _, vt = np.linalg.svd(matrix[:, :2])
        rotation = np.eye(3)
        rotation[:2, :2] = u @ vt
        if 'joints_3d' in results:
            results['joints_3d'] = (results['joints_3d'] @ rotation.T).astype(np.float32)
        if 'smpl_pose' in results:
            results['smpl_pose'] = rotate_global_orient(results['smpl_pose'], rotation)
        if 'cam_intrinsics' in results:
            results['cam_intrinsics'] = (_as_3x3(matrix) @ results['cam_intrinsics']
                                         @ rotation.T).astype(np.float32)

        results['bbox_scale'] = scale
        results['input_size'] = (w, h)
        results['input_center'] = center
        results['input_scale'] = scale[0]
        results['crop_matrix'] = matrix.astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(input_size={self.input_size})'


@TRANSFORMS.register_module()
class MeshRandomFlip(BaseTransform):
    """Mirror the sample horizontally with probability ``prob``.

    Image columns x → W−1−x (W = current image width, so it works before or after the crop);
    ``keypoints`` and ``joints_2d`` likewise, then left/right swapped with the COCO-17 and
    J24 flip permutations (visibilities too); ``joints_3d`` X → −X and swapped;
    ``smpl_pose`` through :func:`flip_smpl_pose`; ``cam_intrinsics`` P → F₂ P F₃. Before
    :class:`MeshTopdownAffine`, ``bbox_center``/``bbox`` are mirrored too; after it they
    describe the crop in the original image and stay. ``flip`` is toggled, so flipping twice
    is the identity. Flipping the 256×256 crop is cheaper than flipping the source image.

    Args:
        prob (float): flip probability. Default 0.5.
    """

    def __init__(self, prob: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob should be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        results.setdefault('flip', False)
        if np.random.rand() >= self.prob:
            return results
        width = results['img'].shape[1]
        results['img'] = cv2.flip(results['img'], 1)
        for key, vis_key, perm in (('keypoints', 'keypoints_visible', COCO17_FLIP_PERM),
                                   ('joints_2d', 'joints_2d_visible', J24_FLIP_PERM)):
            if key in results:
                points = np.array(results[key], dtype=np.float32, copy=True)
                points[..., 0] = width - 1 - points[..., 0]
                results[key] = points[..., perm, :]
            if vis_key in results:
                results[vis_key] = np.asarray(results[vis_key])[..., perm]
        if 'joints_3d' in results:
            joints = np.array(results['joints_3d'], dtype=np.float32, copy=True)
            joints[..., 0] *= -1
            results['joints_3d'] = joints[..., J24_FLIP_PERM, :]
        if 'joints_3d_visible' in results:
            results['joints_3d_visible'] = np.asarray(results['joints_3d_visible'])[...,
                                                                                   J24_FLIP_PERM]
        if 'smpl_pose' in results:
            results['smpl_pose'] = np.asarray(flip_smpl_pose(results['smpl_pose']),
                                              dtype=np.float32)
        if 'cam_intrinsics' in results:
            mirror_2d = np.array([[-1.0, 0.0, width - 1], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            mirror_3d = np.diag([-1.0, 1.0, 1.0])
            results['cam_intrinsics'] = (mirror_2d @ results['cam_intrinsics']
                                         @ mirror_3d).astype(np.float32)
        if 'crop_matrix' not in results:   # before the crop the box lives in this image
            if 'bbox_center' in results:
                center = np.array(results['bbox_center'], dtype=np.float32, copy=True)
                center[..., 0] = width - 1 - center[..., 0]
                results['bbox_center'] = center
            if 'bbox' in results:
                bbox = np.asarray(results['bbox'], dtype=np.float32)
                results['bbox'] = np.stack([width - 1 - bbox[..., 2], bbox[..., 1],
                                            width - 1 - bbox[..., 0], bbox[..., 3]], axis=-1)
        results['flip'] = not results['flip']
        results['flip_direction'] = 'horizontal'
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class MeshRandomRotation(BaseTransform):
    """Sample an in-plane rotation (degrees) for :class:`MeshTopdownAffine` to apply.

    angle = clip(N(0, ``std``), ±``max_angle``), set to 0 with probability ``zero_prob``;
    stored as ``bbox_rotation`` (1,). The crop then rotates image and 2D joints, and rotates
    ``joints_3d`` and the SMPL global orientation about the camera Z axis by the same angle.
    Place it before :class:`MeshTopdownAffine`.

    Args:
        std (float): standard deviation in degrees. Default 30.
        max_angle (float): clipping bound in degrees. Default 60.
        zero_prob (float): probability of no rotation. Default 0.6.
    """

    def __init__(self, std: float = 30.0, max_angle: float = 60.0,
                 zero_prob: float = 0.6) -> None:
        super().__init__()
        self.std, self.max_angle, self.zero_prob = std, max_angle, zero_prob

    def transform(self, results: dict) -> dict:
        angle = float(np.clip(np.random.randn() * self.std, -self.max_angle, self.max_angle))
        if np.random.rand() < self.zero_prob:
            angle = 0.0
        results['bbox_rotation'] = np.array([angle], dtype=np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(std={self.std}, max_angle={self.max_angle}, '
                f'zero_prob={self.zero_prob})')


@TRANSFORMS.register_module()
class MeshRandomScale(BaseTransform):
    """Scale jitter of the crop box, applied by :class:`MeshTopdownAffine`.

    ``bbox_scale`` is multiplied by clip(N(1, ``std``), ``clip``): a larger box shows more
    context and a smaller person. 3D quantities are unaffected. Place it before the crop.

    Args:
        std (float): standard deviation of the factor. Default 0.25.
        clip (Sequence[float]): (min, max) factor. Default (0.75, 1.25).
    """

    def __init__(self, std: float = 0.25, clip: Sequence[float] = (0.75, 1.25)) -> None:
        super().__init__()
        self.std, self.clip = std, (float(clip[0]), float(clip[1]))

    def transform(self, results: dict) -> dict:
        factor = float(np.clip(1.0 + np.random.randn() * self.std, *self.clip))
        results['bbox_scale'] = (np.asarray(results['bbox_scale'], np.float32) *
                                 np.float32(factor))
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(std={self.std}, clip={self.clip})'


@TRANSFORMS.register_module()
class MeshPixelNoise(BaseTransform):
    """Multiply each colour channel by its own factor U[1 − f, 1 + f], clipped to [0, 255].

    Args:
        noise_factor (float): f. Default 0.4 (factors in [0.6, 1.4]).
    """

    def __init__(self, noise_factor: float = 0.4) -> None:
        super().__init__()
        self.noise_factor = noise_factor

    def transform(self, results: dict) -> dict:
        img = results['img']
        channels = img.shape[2] if img.ndim == 3 else 1
        factors = np.random.uniform(1 - self.noise_factor, 1 + self.noise_factor, channels)
        if img.dtype == np.uint8:   # a per-channel lookup table: same result, 4x faster
            table = np.clip(np.arange(256)[:, None] * factors, 0, 255).astype(np.uint8)
            results['img'] = cv2.LUT(img, table.reshape(256, 1, channels))
        else:
            results['img'] = np.clip(img * factors.astype(np.float32), 0, 255)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(noise_factor={self.noise_factor})'
