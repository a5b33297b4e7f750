"""tools/analysis/occlusion_sensitivity.py: occluder grid, per-joint errors, maps, outputs."""
import importlib.util
from copy import deepcopy
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'analysis' / 'occlusion_sensitivity.py'


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('occlusion_sensitivity', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_occluder_positions_cover_the_crop(tool):
    ys, xs = tool.occluder_positions((64, 48), patch_size=20, stride=15)
    np.testing.assert_array_equal(xs, [0, 15, 30, 44])
    np.testing.assert_array_equal(ys, [0, 15, 28])
    with pytest.raises(ValueError, match='patch_size'):
        tool.occluder_positions((64, 48), patch_size=50, stride=10)


def test_error_maps_average_the_covering_positions(tool):
    rng = np.random.default_rng(0)
    ys, xs = tool.occluder_positions((12, 10), patch_size=4, stride=3)
    errors = rng.random((len(ys), len(xs), 2))
    maps = tool.error_maps(errors, ys, xs, 4, (12, 10))
    for py, px in [(0, 0), (5, 7), (9, 11), (3, 6)]:
        covering = [errors[i, j] for i, y in enumerate(ys) for j, x in enumerate(xs)
                    if y <= py < y + 4 and x <= px < x + 4]
        np.testing.assert_allclose(maps[py, px], np.mean(covering, axis=0))


def test_errors_match_a_hand_occluded_crop(tool, tiny_model):
    image = (np.random.default_rng(3).random((80, 80, 3)) * 255).astype(np.uint8)
    inputs, sample = tool.load_image_crop(tiny_model, image, [10, 10, 70, 70])
    reference = np.random.default_rng(4).normal(scale=0.2, size=(14, 3))
    result = tool.occlusion_errors(tiny_model, inputs, sample, reference, patch_size=32,
                                   stride=32, batch_size=3)
    assert result['errors'].shape == (2, 2, 14)
    # position (row 1, column 0): occlude by hand and compare with the reference, mid-hip
    # aligned, in mm
    occluded = inputs.clone()
    occluded[:, 32:64, 0:32] = torch.tensor(tool.DEFAULT_FILL, dtype=torch.uint8)[:, None,
                                                                                   None]
    with torch.no_grad():
        pred = tiny_model.test_step(dict(inputs=[occluded], data_samples=[deepcopy(sample)]))
    joints = pred[0].pred_instances.keypoints_3d[0].astype(np.float64)
    joints -= joints[2:4].mean(0)
    ref = reference - reference[2:4].mean(0)
    np.testing.assert_allclose(result['errors'][1, 0], 1000 * np.linalg.norm(joints - ref,
                                                                            axis=-1), rtol=1e-4)
    # without a reference the unoccluded prediction is the reference
    own = tool.occlusion_errors(tiny_model, inputs, sample, None, patch_size=32, stride=32)
    np.testing.assert_allclose(own['unoccluded_errors'], 0, atol=1e-6)
    assert own['errors'].max() > 0


def test_command_line_writes_heat_maps(tool, tiny_model_files, tmp_path, capsys):
    image = tmp_path / 'person.png'
    cv2.imwrite(str(image), (np.random.default_rng(5).random((70, 50, 3)) * 255).astype(
        np.uint8))
    out = tmp_path / 'maps'
    code = tool.main([tiny_model_files['config'], tiny_model_files['checkpoint'], '--img',
                      str(image), '--out-dir', str(out), '--patch-size', '32', '--stride', '16',
                      '--device', 'cpu'])
    assert code == 0
    assert cv2.imread(str(out / 'occlusion_mean.png')).shape == (64, 64, 3)
    assert cv2.imread(str(out / 'occlusion_L_Wrist.png')).shape == (64, 64, 3)
    assert cv2.imread(str(out / 'occlusion_joints.png')).shape == (3 * 64, 5 * 64, 3)
    saved = np.load(out / 'occlusion_errors.npz')
    assert saved['errors'].shape == (3, 3, 14) and list(saved['joint_names'])[-1] == 'Head'
    assert '9 occluder positions' in capsys.readouterr().out

    code = tool.main([tiny_model_files['config'], tiny_model_files['checkpoint'], '--img',
                      str(tmp_path / 'none.png'), '--out-dir', str(out)])
    assert code == 1 and 'none.png' in capsys.readouterr().err


def test_dataset_sample_uses_its_ground_truth(tool, tiny_model_files, tmp_path, capsys):
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'datasets'))
    from mesh_data_builders import SyntheticPeople, build_spin_npz_set
    from tiny_mesh_model import INPUT_SIZE, tiny_config

    from postometro_mm.apis import init_model
    from postometro_mm.body_models.joint_sets import J24_TO_J14
    data = build_spin_npz_set(str(tmp_path / 'spin'), SyntheticPeople(tiny_model_files['body']))
    cfg = tiny_config(tiny_model_files['body'])
    cfg.test_dataloader.dataset = dict(
        type='SPINNpzDataset', ann_file=data['path'], data_prefix=dict(img=data['root']),
        test_mode=True, pipeline=[dict(type='LoadMeshImage'),
                                  dict(type='MeshTopdownAffine', input_size=INPUT_SIZE),
                                  dict(type='PackMeshInputs')])
    config = str(tmp_path / 'with_data.py')
    cfg.dump(config)
    model = init_model(config, tiny_model_files['checkpoint'], 'cpu')
    inputs, sample, reference = tool.load_dataset_crop(model, 2)
    np.testing.assert_allclose(reference, data['arrays']['S'][2, J24_TO_J14, :3], atol=1e-6)
    assert inputs.shape == (3, 64, 64)

    out = tmp_path / 'maps'
    args = [config, tiny_model_files['checkpoint'], '--out-dir', str(out), '--patch-size', '32',
            '--stride', '32', '--device', 'cpu']
    assert tool.main(args + ['--dataset-index', '2']) == 0
    saved = np.load(out / 'occlusion_errors.npz')
    assert saved['unoccluded_errors'].min() > 0  # random model vs ground truth
    assert tool.main(args + ['--dataset-index', '99']) == 1
    assert 'outside the test set (size 5)' in capsys.readouterr().err
