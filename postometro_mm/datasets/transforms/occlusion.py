"""Synthetic occlusion augmentation."""
from typing import Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

OCCLUDER_FILLS = ('solid', 'noise', 'patch')


@TRANSFORMS.register_module()
class RandomOcclusion(BaseTransform):
    """Paste random rectangular occluders on the image (use it after the crop).

    With probability ``prob``, draws a number of occluders in ``num_occluders`` (inclusive);
    each covers a fraction of the image area in ``area_range`` with an aspect ratio (w/h) in
    ``aspect_range`` (log-uniform), lies fully inside the image, and is filled with one of
    ``fills``: 'solid' (a random colour), 'noise' (uniform random texture) or 'patch' (a
    same-sized piece of the same image from elsewhere, a textured occluder).

    With ``mark_invisible=True``, 2D joints (``keypoints``, ``joints_2d``) inside an occluder
    become invisible and ``has_2d`` is updated.

    Args:
        prob (float): probability of occluding a sample. Default 0.5.
        num_occluders (tuple[int, int]): (min, max) occluders per sample. Default (1, 3).
        area_range (tuple[float, float]): occluder area / image area. Default (0.02, 0.15).
        aspect_range (tuple[float, float]): occluder w/h. Default (0.3, 3.3).
        fills (Sequence[str]): fill types to choose from. Default all.
        mark_invisible (bool): mark covered 2D joints invisible. Default False.
    """

    def __init__(self, prob: float = 0.5, num_occluders: Tuple[int, int] = (1, 3),
                 area_range: Tuple[float, float] = (0.02, 0.15),
                 aspect_range: Tuple[float, float] = (0.3, 3.3),
                 fills: Sequence[str] = OCCLUDER_FILLS, mark_invisible: bool = False) -> None:
        super().__init__()
        unknown = set(fills) - set(OCCLUDER_FILLS)
        if unknown or not fills:
            raise ValueError(f'fills should be a non-empty subset of {OCCLUDER_FILLS}, got '
                             f'{tuple(fills)}')
        if not 0 < area_range[0] <= area_range[1] <= 1:
            raise ValueError(f'area_range should satisfy 0 < min <= max <= 1, got {area_range}')
        self.prob = prob
        self.num_occluders = (int(num_occluders[0]), int(num_occluders[1]))
        self.area_range = area_range
        self.aspect_range = aspect_range
        self.fills = tuple(fills)
        self.mark_invisible = mark_invisible

    def _sample_box(self, height: int, width: int) -> Tuple[int, int, int, int]:
        area = np.random.uniform(*self.area_range) * height * width
        aspect = np.exp(np.random.uniform(np.log(self.aspect_range[0]),
                                          np.log(self.aspect_range[1])))
        box_w = int(np.clip(round(np.sqrt(area * aspect)), 1, width))
        box_h = int(np.clip(round(np.sqrt(area / aspect)), 1, height))
        x0 = np.random.randint(0, width - box_w + 1)
        y0 = np.random.randint(0, height - box_h + 1)
        return x0, y0, box_w, box_h

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        img = results['img'].copy()
        height, width = img.shape[:2]
        channels = img.shape[2:] if img.ndim == 3 else ()
        boxes = []
        for _ in range(np.random.randint(self.num_occluders[0], self.num_occluders[1] + 1)):
            x0, y0, box_w, box_h = self._sample_box(height, width)
            fill = self.fills[np.random.randint(len(self.fills))]
            if fill == 'solid':
                content = np.random.randint(0, 256, size=channels)
            elif fill == 'noise':
                content = np.random.randint(0, 256, size=(box_h, box_w) + channels)
            else:
                sx = np.random.randint(0, width - box_w + 1)
                sy = np.random.randint(0, height - box_h + 1)
                content = img[sy:sy + box_h, sx:sx + box_w].copy()
            img[y0:y0 + box_h, x0:x0 + box_w] = content
            boxes.append((x0, y0, x0 + box_w, y0 + box_h))
        results['img'] = img

        if self.mark_invisible:
            for key, vis_key in (('keypoints', 'keypoints_visible'),
                                 ('joints_2d', 'joints_2d_visible')):
                if key not in results or vis_key not in results:
                    continue
                points = np.asarray(results[key])
                covered = np.zeros(points.shape[:-1], dtype=bool)
                for x0, y0, x1, y1 in boxes:
                    covered |= ((points[..., 0] >= x0 - 0.5) & (points[..., 0] < x1 - 0.5) &
                                (points[..., 1] >= y0 - 0.5) & (points[..., 1] < y1 - 0.5))
                results[vis_key] = np.where(covered, 0, results[vis_key]).astype(np.float32)
            if 'has_2d' in results:
                visible = [np.asarray(results[k]).reshape(len(results['has_2d']), -1)
                           for k in ('keypoints_visible', 'joints_2d_visible') if k in results]
                results['has_2d'] = (np.concatenate(visible, axis=1) > 0).any(axis=1).astype(
                    np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, num_occluders='
                f'{self.num_occluders}, area_range={self.area_range}, aspect_range='
                f'{self.aspect_range}, fills={self.fills}, mark_invisible={self.mark_invisible})')
