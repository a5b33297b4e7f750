"""Procedural RGB textures: backgrounds of the synthetic world and occluder fills.

Every generator takes a ``numpy.random.Generator`` and a size and returns an ``(H, W, 3)``
float32 image in [0, 255]; the same generator state gives the same image.
"""
from typing import Callable, Dict

import cv2
import numpy as np

Texture = Callable[[np.random.Generator, int, int], np.ndarray]


def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0.0, 255.0, size=3).astype(np.float32)


def gaussian_noise(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A mean colour plus per-pixel Gaussian noise, blurred at a random scale (0-3 px)."""
    noise = rng.standard_normal((height, width, 3), dtype=np.float32) * rng.uniform(10.0, 60.0)
    sigma = rng.uniform(0.0, 3.0)
    if sigma > 0.3:
        noise = cv2.GaussianBlur(noise, (0, 0), sigma) * (1.0 + sigma)
    return np.clip(_colour(rng) + noise, 0.0, 255.0)


def linear_gradient(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Two random colours blended along a random direction."""
    angle = rng.uniform(0.0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = xs * np.cos(angle) + ys * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    return (1.0 - t)[..., None] * _colour(rng) + t[..., None] * _colour(rng)


def stripes(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Two-colour stripes of random period (4-40 px), angle and duty cycle."""
    angle = rng.uniform(0.0, np.pi)
    period = rng.uniform(4.0, 40.0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = ((xs * np.cos(angle) + ys * np.sin(angle)) / period + rng.uniform()) % 1.0
    on = (phase < rng.uniform(0.3, 0.7))[..., None]
    return np.where(on, _colour(rng), _colour(rng)).astype(np.float32)


def checker(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A rotated two-colour checkerboard with random cell size (4-40 px)."""
    angle = rng.uniform(0.0, np.pi / 2)
    cell = rng.uniform(4.0, 40.0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    u = (xs * np.cos(angle) + ys * np.sin(angle)) / cell
    v = (-xs * np.sin(angle) + ys * np.cos(angle)) / cell
    on = ((np.floor(u) + np.floor(v)) % 2 == 0)[..., None]
    return np.where(on, _colour(rng), _colour(rng)).astype(np.float32)


def blurred_blobs(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """3-12 random coloured ellipses over a random colour, blurred (sigma 2-12 px)."""
    image = np.empty((height, width, 3), np.float32)
    image[:] = _colour(rng)
    size = max(height, width)
    for _ in range(int(rng.integers(3, 13))):
        center = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        axes = (max(1, int(rng.uniform(0.05, 0.4) * size)),
                max(1, int(rng.uniform(0.05, 0.4) * size)))
        cv2.ellipse(image, center, axes, float(rng.uniform(0, 180)), 0.0, 360.0,
                    _colour(rng).tolist(), thickness=-1)
    return cv2.GaussianBlur(image, (0, 0), rng.uniform(2.0, 12.0))


#: The texture generators by name (the background mixes draw from these).
TEXTURES: Dict[str, Texture] = dict(
    noise=gaussian_noise, gradient=linear_gradient, stripes=stripes, checker=checker,
    blobs=blurred_blobs)


def random_texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """One texture from a uniformly chosen generator of :data:`TEXTURES`."""
    names = sorted(TEXTURES)
    return TEXTURES[names[int(rng.integers(len(names)))]](rng, height, width)


def random_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random mixture of 1-3 textures (each blended over the previous one with a random
    opacity in [0.3, 0.8]), plus mild per-pixel sensor noise. Returns (H, W, 3) uint8."""
    image = random_texture(rng, height, width)
    for _ in range(int(rng.integers(0, 3))):
        alpha = rng.uniform(0.3, 0.8)
        image = (1.0 - alpha) * image + alpha * random_texture(rng, height, width)
    image = image + 3.0 * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(image, 0, 255).round().astype(np.uint8)
