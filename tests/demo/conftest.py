"""Fixtures of the demo tests: the tiny mesh model of tests/apis, synthetic images and a short
video written with OpenCV, and RTMDet-tiny from mmdet's packaged config at a small input
size (random weights)."""
import importlib.util
import os.path as osp
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / 'apis'))
from tiny_mesh_model import write_tiny_model  # noqa: E402

IMAGE_SIZE = (96, 128)  # (H, W)
NUM_VIDEO_FRAMES = 3


@pytest.fixture(scope='session')
def demo():
    """``demo/mesh_demo.py`` as a module (its ``main(argv)`` returns the exit status)."""
    spec = importlib.util.spec_from_file_location('mesh_demo', TESTS.parent / 'demo' /
                                                  'mesh_demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def model_files(synthetic_body_model, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('demo_model')
    config, checkpoint = write_tiny_model(synthetic_body_model, str(out_dir))
    return dict(config=config, checkpoint=checkpoint)


def _noise(seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((*IMAGE_SIZE, 3)) * 255).astype(np.uint8)


@pytest.fixture(scope='session')
def media(tmp_path_factory):
    """dict(folder (2 PNG images), image (one of them), video (mp4), size (H, W) of all,
    num_frames of the video)."""
    root = tmp_path_factory.mktemp('demo_media')
    folder = root / 'images'
    folder.mkdir()
    for i in range(2):
        cv2.imwrite(str(folder / f'person{i}.png'), _noise(i))
    video = str(root / 'clip.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 10,
                             (IMAGE_SIZE[1], IMAGE_SIZE[0]))
    for i in range(NUM_VIDEO_FRAMES):
        writer.write(_noise(10 + i))
    writer.release()
    return dict(folder=str(folder), image=str(folder / 'person0.png'), video=video,
                size=IMAGE_SIZE, num_frames=NUM_VIDEO_FRAMES)


@pytest.fixture(scope='session')
def detector_config(tmp_path_factory):
    """RTMDet-tiny from mmdet's packaged config, test input 128 px (fast on a CPU)."""
    from postometro_mm.apis.mesh_inferencer import mmdet_config_dir
    base = osp.join(mmdet_config_dir(), 'rtmdet', 'rtmdet_tiny_8xb32-300e_coco.py')
    path = tmp_path_factory.mktemp('detector') / 'rtmdet_tiny_128.py'
    path.write_text(
        f'_base_ = {base!r}\n'
        'test_pipeline = [\n'
        "    dict(type='LoadImageFromFile'),\n"
        "    dict(type='Resize', scale=(128, 128), keep_ratio=True),\n"
        "    dict(type='Pad', size=(128, 128), pad_val=dict(img=(114, 114, 114))),\n"
        "    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', "
        "'img_shape', 'scale_factor'))]\n"
        'test_dataloader = dict(dataset=dict(pipeline=test_pipeline))\n'
        "model = dict(backbone=dict(init_cfg=None))\n")
    return str(path)
