"""Shared helpers for the PCT tests: synthetic COCO-17 poses and tiny model configs."""
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

# COCO-17 joints as (parent, rest offset in metres: x right, y up, z forward) of a stick figure.
_HEAD = {0: (0.0, 0.08, 0.09), 1: (0.03, 0.11, 0.07), 2: (-0.03, 0.11, 0.07),
         3: (0.07, 0.09, 0.0), 4: (-0.07, 0.09, 0.0)}  # relative to the head centre
_LIMBS = {  # joint: (parent joint or -1 for the pelvis/neck anchors, length, mean direction)
    7: (5, 0.28, (0.2, -1.0, 0.0)), 9: (7, 0.25, (0.1, -1.0, 0.2)),
    8: (6, 0.28, (-0.2, -1.0, 0.0)), 10: (8, 0.25, (-0.1, -1.0, 0.2)),
    13: (11, 0.42, (0.05, -1.0, 0.0)), 15: (13, 0.40, (0.0, -1.0, -0.1)),
    14: (12, 0.42, (-0.05, -1.0, 0.0)), 16: (14, 0.40, (0.0, -1.0, -0.1)),
}


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy, cp, sp, cr, sr = (np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch),
                              np.cos(roll), np.sin(roll))
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return ry @ rx @ rz


def synthetic_coco_poses(num: int, size: int = 256, seed: int = 0):
    """Random articulated skeletons, orthographically projected into a ``size`` px crop.

    Returns:
        tuple: keypoints (num, 17, 2) float32 crop px and visibility (num, 17) float32 (about
        10 % of the joints invisible).
    """
    rng = np.random.default_rng(seed)
    poses = np.zeros((num, 17, 2), np.float32)
    for n in range(num):
        j = np.zeros((17, 3))
        scale_body = rng.uniform(0.85, 1.15)
        lean = _rotation(rng.normal(0, 0.2), rng.normal(0, 0.25), rng.normal(0, 0.15))
        j[11], j[12] = lean @ [0.1, 0, 0], lean @ [-0.1, 0, 0]
        j[5] = lean @ [0.18, 0.5, 0]
        j[6] = lean @ [-0.18, 0.5, 0]
        head = lean @ [0, 0.62, 0] + 0.05 * rng.normal(size=3) * [1, 0.3, 1]
        head_rot = lean @ _rotation(rng.normal(0, 0.4), rng.normal(0, 0.2), 0)
        for k, off in _HEAD.items():
            j[k] = head + head_rot @ np.asarray(off)
        for k, (parent, length, direction) in _LIMBS.items():
            d = lean @ np.asarray(direction) + rng.normal(0, 0.6, size=3)
            if k in (13, 14, 15, 16):  # legs stay below the hips
                d[1] = -abs(d[1]) - 0.3
            j[k] = j[parent] + length * d / np.linalg.norm(d)
        j *= scale_body
        view = _rotation(rng.uniform(-np.pi, np.pi), rng.normal(0, 0.1), 0)
        j = j @ view.T
        xy = np.stack([j[:, 0], -j[:, 1]], axis=1)
        xy -= (xy.max(0) + xy.min(0)) / 2
        extent = np.abs(xy).max()
        xy = xy / extent * size * rng.uniform(0.3, 0.45) + size / 2 + rng.normal(0, 8, size=2)
        poses[n] = xy
    visible = (rng.uniform(size=(num, 17)) > 0.1).astype(np.float32)
    return poses, visible


@pytest.fixture
def coco_poses():
    return synthetic_coco_poses


REPO_ROOT = Path(__file__).resolve().parents[3]
TINY_MODEL_OVERRIDES = '''
model = dict(
    backbone=dict(img_size=128, embed_dims=32, depths=[1, 1, 1, 1], num_heads=[1, 2, 4, 8],
                  window_size=[4, 4, 4, 2], pretrained_window_size=[4, 4, 4, 2],
                  drop_path_rate=0.0, init_cfg=None),
    head=dict(
        in_channels=256, input_size=(128, 128),
        tokenizer=dict(guide_ratio={guide_ratio}, num_tokens=8, num_codes=32, code_dims=16,
                       enc_hidden_dims=16, enc_hidden_inter_dims=16, enc_token_inter_dims=8,
                       enc_num_blocks=1, dec_hidden_dims=8, dec_hidden_inter_dims=8,
                       dec_token_inter_dims=8, init_cfg={tokenizer_init}),
        {classifier}))
'''
TINY_CLASSIFIER = ('classifier=dict(conv_channels=8, conv_num_blocks=1, hidden_dims=8, '
                   'hidden_inter_dims=16, token_inter_dims=8, num_blocks=1)')


def write_tiny_pct_config(out_dir: Path, stage: str = 'classifier', guide_ratio: float = 0.5,
                          tokenizer_checkpoint: Optional[str] = None, extra: str = '') -> Path:
    """A tiny 128x128 PCT config inheriting the repository's PCT-Base config of ``stage``."""
    base = REPO_ROOT / 'configs' / 'pct' / f'pct_{stage}_swinv2-base_coco-256x256.py'
    tokenizer_init = 'None' if tokenizer_checkpoint is None else (
        f"dict(type='Pretrained', checkpoint='{tokenizer_checkpoint}', "
        "prefix='head.tokenizer.')")
    text = f"_base_ = ['{base}']\n" + TINY_MODEL_OVERRIDES.format(
        guide_ratio=guide_ratio, tokenizer_init=tokenizer_init,
        classifier=TINY_CLASSIFIER if stage == 'classifier' else '') + extra
    path = out_dir / f'tiny_pct_{stage}_g{guide_ratio}.py'
    path.write_text(text)
    return path


def build_from_config(path: Path):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmpose.registry import MODELS
    cfg = Config.fromfile(str(path))
    init_default_scope('mmpose')
    return MODELS.build(cfg.model)


@pytest.fixture
def tiny_pct_config():
    return write_tiny_pct_config


@pytest.fixture
def build_pct():
    return build_from_config
