"""`mim train` / `mim test` of the real VQ-HPS config (tiny version: mim_tiny_configs) on the
quickstart world, and the demo on its checkpoint, with the installed plugin."""
import importlib.util
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from mim_tiny_configs import REPO, TRAIN_BATCH_SIZE, write_tiny_config
from test_mim_postometro import (NUM_TEST, NUM_TRAIN, installed_plugin,  # noqa: F401 (fixture)
                                 run_mim, train_iterations)

from postometro_mm.apis import load_obj


@pytest.fixture(scope='module')
def tiny_vqhps(installed_plugin, synthetic_body_model, tmp_path_factory) -> Path:  # noqa: F811
    from postometro_mm.quickstart import generate_world
    root = tmp_path_factory.mktemp('mim_vqhps')
    world = generate_world(root / 'world', NUM_TRAIN, NUM_TEST, 1, image_size=64,
                           body_model=synthetic_body_model, progress=False)
    return write_tiny_config(root, 'vqhps', synthetic_body_model, world)


def test_vqhps_trains_tests_and_runs_the_demo(tiny_vqhps, synthetic_body_model, tmp_path):
    work_dir = tmp_path / 'work'
    iters = math.ceil(NUM_TRAIN / TRAIN_BATCH_SIZE)
    log = run_mim('train', tiny_vqhps, '--work-dir', str(work_dir), cwd=tmp_path)
    assert train_iterations(log) == [(1, i, iters) for i in range(1, iters + 1)]
    assert 'loss_tokens' in log and 'acc_tokens' in log and 'loss_rotation' in log
    assert list(work_dir.glob('best_3dpw_B_PA-MPJPE_epoch_1.pth'))

    metrics_file = tmp_path / 'metrics.json'
    run_mim('test', tiny_vqhps, '--checkpoint', str(work_dir / 'epoch_1.pth'), '--work-dir',
            str(tmp_path / 'test'), '--out', str(metrics_file), cwd=tmp_path)
    metrics = json.loads(metrics_file.read_text())
    for key in ('3dpw/MPJPE', '3dpw/PA-MPJPE', '3dpw/MPVPE', '3dpw/B/MPJPE', '3dpw/B/PA-MPJPE'):
        assert np.isfinite(metrics[key]) and metrics[key] > 0, (key, metrics)

    spec = importlib.util.spec_from_file_location('mesh_demo', REPO / 'demo' / 'mesh_demo.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    image = tmp_path / 'person.png'
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (96, 128, 3), np.uint8))
    out = tmp_path / 'demo'
    assert demo.main([str(tiny_vqhps), str(work_dir / 'epoch_1.pth'), '--device', 'cpu',
                      '--input', str(image), '--out-dir', str(out), '--save-mesh', 'obj']) == 0
    assert cv2.imread(str(out / 'person.jpg')).shape == (96, 128, 3)
    vertices, faces = load_obj(str(out / 'meshes' / 'person_person00.obj'))
    assert vertices.shape == (synthetic_body_model['num_vertices'][0], 3)
    assert faces.max() < len(vertices)
