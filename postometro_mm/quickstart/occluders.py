"""Random occluders (rectangles, ellipses, polygons; solid or textured) drawn over a person."""
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

from .backgrounds import random_texture

SHAPES = ('rectangle', 'ellipse', 'polygon')


@dataclass(frozen=True)
class OcclusionLevel:
    """How many occluders an image gets and how big they are.

    Attributes:
        count_probs: probability of 0, 1, 2, ... occluders.
        size_range: occluder size as a fraction of the person's box side (uniform).
        textured_prob: probability that an occluder is textured instead of one colour.
    """
    count_probs: Tuple[float, ...]
    size_range: Tuple[float, float]
    textured_prob: float = 0.5

    def __post_init__(self) -> None:
        if abs(sum(self.count_probs) - 1.0) > 1e-6 or min(self.count_probs) < 0:
            raise ValueError(f'count_probs must be a probability vector, got {self.count_probs}')
        if not 0 < self.size_range[0] <= self.size_range[1]:
            raise ValueError(f'size_range must be 0 < low <= high, got {self.size_range}')


#: Occlusion of the ordinary splits and of the heavily occluded test split.
LIGHT_OCCLUSION = OcclusionLevel(count_probs=(0.5, 0.35, 0.15), size_range=(0.12, 0.3))
HEAVY_OCCLUSION = OcclusionLevel(count_probs=(0.0, 0.0, 0.4, 0.4, 0.2), size_range=(0.2, 0.45))


def _shape_mask(rng: np.random.Generator, shape: str, center: np.ndarray, size: float,
                image_size: Tuple[int, int]) -> np.ndarray:
    """Boolean (H, W) mask of one shape of about ``size`` px centred at ``center`` (x, y)."""
    mask = np.zeros(image_size, dtype=np.uint8)
    cx, cy = float(center[0]), float(center[1])
    angle = rng.uniform(0.0, 180.0)
    if shape == 'rectangle':
        half = 0.5 * size * rng.uniform(0.4, 1.0, size=2)
        box = cv2.boxPoints(((cx, cy), (2 * half[0], 2 * half[1]), angle))
        cv2.fillPoly(mask, [np.round(box).astype(np.int32)], 1)
    elif shape == 'ellipse':
        axes = np.maximum(1, np.round(0.5 * size * rng.uniform(0.4, 1.0, size=2))).astype(int)
        cv2.ellipse(mask, (int(round(cx)), int(round(cy))), (int(axes[0]), int(axes[1])), angle,
                    0.0, 360.0, 1, thickness=-1)
    elif shape == 'polygon':
        count = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0.0, 2 * np.pi, size=count))
        radii = 0.5 * size * rng.uniform(0.4, 1.0, size=count)
        points = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], axis=1)
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    else:
        raise ValueError(f'unknown occluder shape {shape!r}; expected one of {SHAPES}')
    return mask.astype(bool)


def draw_occluders(rng: np.random.Generator, image: np.ndarray, anchors: np.ndarray,
                   box_side: float, level: OcclusionLevel) -> Tuple[np.ndarray, np.ndarray]:
    """Paint random occluders over a person.

    Each occluder is centred on a random anchor (e.g. a projected body joint) shifted by up
    to a third of its size, so occluders hide body parts rather than background.

    Args:
        rng: random generator.
        image: (H, W, 3) uint8 image (not modified).
        anchors: (K, 2) pixel positions (x, y) to centre occluders around.
        box_side: the person's box side in px (occluder sizes are relative to it).
        level: number and sizes of the occluders.

    Returns:
        tuple: the (H, W, 3) uint8 image with the occluders and their union (H, W) bool mask.
    """
    height, width = image.shape[:2]
    out = image.copy()
    union = np.zeros((height, width), dtype=bool)
    count = int(rng.choice(len(level.count_probs), p=np.asarray(level.count_probs)))
    for _ in range(count):
        size = box_side * rng.uniform(*level.size_range)
        center = anchors[int(rng.integers(len(anchors)))] + rng.uniform(-size / 3, size / 3, 2)
        mask = _shape_mask(rng, SHAPES[int(rng.integers(len(SHAPES)))], center, size,
                           (height, width))
        if rng.random() < level.textured_prob:
            fill = random_texture(rng, height, width)[mask]
        else:
            fill = rng.uniform(0.0, 255.0, size=3)
        out[mask] = np.clip(fill, 0, 255).round().astype(np.uint8)
        union |= mask
    return out, union
