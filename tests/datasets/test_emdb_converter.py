"""EMDB converter on official-layout sequence pickles (the keys and shapes of EMDB's
dataset.md), and EMDBDataset over its output."""
import os
import pickle

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from postometro_mm.body_models import DisallowedPickleError
from postometro_mm.datasets import EMDBDataset
from postometro_mm.datasets.converters import convert_emdb, load_emdb_sequence

from mesh_data_builders import project, rotvec_matrix
from crafted_pickles import RunsCode

K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
FRAMES = 6
#: (subject, sequence folder, emdb1, emdb2, gender)
LAYOUT = (('P0', '09_outdoor_walk', True, False, 'male'),
          ('P3', '31_outdoor_workout', True, True, 'female'),
          ('P5', '40_indoor_walk_big_circle', False, True, 'neutral'))
BAD_FRAME, INVALID_BOX, EMPTY_BOX = 1, 3, 4  # per sequence


def _sequence(people, subject, name, emdb1, emdb2, gender, seed):
    rng = np.random.default_rng(seed)
    poses = people.random_poses(rng, FRAMES, upright_in_camera=False)
    world_to_cam = np.tile(np.eye(4), (FRAMES, 1, 1))
    world_to_cam[:, :3, :3] = Rotation.from_euler(
        'xyz', rng.uniform(-0.3, 0.3, (FRAMES, 3)) + [np.pi, 0, 0]).as_matrix()
    world_to_cam[:, :3, 3] = [0.1, 0.2, 4.0]
    boxes = np.tile([200.0, 100.0, 360.0, 420.0], (FRAMES, 1)) + rng.uniform(-5, 5, (FRAMES, 4))
    boxes[EMPTY_BOX, 2] = boxes[EMPTY_BOX, 0]  # zero width
    good = np.ones(FRAMES, bool)
    good[BAD_FRAME] = False
    return dict(
        gender=gender, name=f'{subject}_{name}', emdb1=emdb1, emdb2=emdb2, n_frames=FRAMES,
        good_frames_mask=good,
        camera=dict(intrinsics=K, extrinsics=world_to_cam, width=640, height=480),
        smpl=dict(poses_root=poses[:, :3], poses_body=poses[:, 3:],
                  trans=rng.normal(0, 0.2, (FRAMES, 3)), betas=rng.normal(0, 1, 10)),
        kp2d=rng.uniform(150, 450, (FRAMES, 24, 2)),
        bboxes=dict(bboxes=boxes, invalid_idxs=np.array([BAD_FRAME, INVALID_BOX, EMPTY_BOX])))


@pytest.fixture(scope='module')
def emdb_root(people, tmp_path_factory):
    root = tmp_path_factory.mktemp('EMDB')
    sequences = {}
    for seed, (subject, name, emdb1, emdb2, gender) in enumerate(LAYOUT):
        data = _sequence(people, subject, name, emdb1, emdb2, gender, seed)
        folder = root / subject / name
        (folder / 'images').mkdir(parents=True)
        with open(folder / f'{subject}_{name}_data.pkl', 'wb') as f:
            pickle.dump(data, f)
        sequences[f'{subject}_{name}'] = data
    return dict(root=str(root), sequences=sequences)


KEPT = [f for f in range(FRAMES) if f not in (BAD_FRAME, INVALID_BOX, EMPTY_BOX)]


def test_counts_values_and_dataset(emdb_root, synthetic_body_model, people, tmp_path):
    counts = convert_emdb(emdb_root['root'], str(tmp_path), splits=('emdb1', 'emdb2'),
                          body_model_dir=synthetic_body_model['model_dir'],
                          j_regressor_extra=synthetic_body_model['j_regressor_extra'],
                          progress=False)
    assert counts == dict(emdb1=2 * len(KEPT), emdb2=2 * len(KEPT), skipped_bad_frames=4,
                          skipped_invalid_boxes=8)
    data = dict(np.load(tmp_path / 'emdb_emdb1.npz'))
    assert sorted(set(data['seq_name'])) == ['P0_09_outdoor_walk', 'P3_31_outdoor_workout']
    rows = np.flatnonzero(data['seq_name'] == 'P3_31_outdoor_workout')
    assert data['frame_id'][rows].tolist() == KEPT
    raw = emdb_root['sequences']['P3_31_outdoor_workout']
    for row in rows:
        frame = int(data['frame_id'][row])
        assert data['imgname'][row] == f'P3/31_outdoor_workout/images/{frame:05d}.jpg'
        assert data['gender'][row] == 'f' and data['split'][row] == 'emdb1'
        world_to_cam = raw['camera']['extrinsics'][frame]
        np.testing.assert_allclose(
            rotvec_matrix(data['pose'][row, :3]),
            world_to_cam[:3, :3] @ rotvec_matrix(raw['smpl']['poses_root'][frame]), atol=1e-6)
        np.testing.assert_allclose(data['pose'][row, 3:], raw['smpl']['poses_body'][frame])
        lo, hi = raw['bboxes']['bboxes'][frame, :2], raw['bboxes']['bboxes'][frame, 2:]
        np.testing.assert_allclose(data['center'][row], (lo + hi) / 2)
        np.testing.assert_allclose(data['scale'][row] * 200, 1.2 * (hi - lo).max())
        # J24 of the world-frame body, moved into the camera, and its projection
        world = people.j24(np.concatenate([raw['smpl']['poses_root'][frame:frame + 1],
                                           raw['smpl']['poses_body'][frame:frame + 1]], 1),
                           raw['smpl']['betas'][None], 'female',
                           transl=raw['smpl']['trans'][frame:frame + 1])[0]
        camera = world @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
        np.testing.assert_allclose(data['S'][row, :, :3], camera, atol=1e-4)
        np.testing.assert_allclose(data['part'][row, :, :2], project(camera, K), atol=1e-3)

    dataset = EMDBDataset(ann_file=str(tmp_path / 'emdb_emdb1.npz'), data_prefix=dict(img=''),
                          test_mode=True)
    info = dataset.get_data_info(len(KEPT))  # the first record of the second sequence
    assert (info['seq_name'], info['frame_id'], info['dataset_name']) == (
        'P3_31_outdoor_workout', KEPT[0], 'emdb')
    assert info['has_smpl'][0] and int(info['gender'][0]) == 2


def test_without_body_model_kp2d_fills_the_smpl_slots(emdb_root, tmp_path):
    counts = convert_emdb(emdb_root['root'], str(tmp_path), progress=False)
    assert counts['emdb1'] == 2 * len(KEPT) and not (tmp_path / 'emdb_emdb2.npz').exists()
    data = np.load(tmp_path / 'emdb_emdb1.npz')
    assert 'S' not in data.files
    kp2d = emdb_root['sequences']['P0_09_outdoor_walk']['kp2d'][KEPT[0]]
    # J24 order: R_Ankle (SMPL 8), R_Knee (5), L_Hip... Neck (SMPL neck is not J24's Neck)
    np.testing.assert_allclose(data['part'][0, 0, :2], kp2d[8])
    np.testing.assert_allclose(data['part'][0, 1, :2], kp2d[5])
    assert data['part'][0, 0, 2] == 1 and data['part'][0, 2, 2] == 0  # R_Hip: not a SMPL joint


def test_bad_inputs_are_named(emdb_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='no EMDB sequence files'):
        convert_emdb(str(tmp_path), str(tmp_path / 'out'), progress=False)
    convert_emdb(emdb_root['root'], str(tmp_path / 'out'), progress=False)
    with pytest.raises(FileExistsError, match='emdb_emdb1.npz'):
        convert_emdb(emdb_root['root'], str(tmp_path / 'out'), progress=False)
    bad = dict(emdb_root['sequences']['P0_09_outdoor_walk'], gender='robot')
    path = tmp_path / 'P9_bad_data.pkl'
    with open(path, 'wb') as f:
        pickle.dump(bad, f)
    with pytest.raises(ValueError, match=r"P9_bad_data.pkl.*\"gender\" is 'robot'"):
        load_emdb_sequence(str(path))
    marker = tmp_path / 'executed'
    with open(path, 'wb') as f:
        pickle.dump(dict(name='evil', smpl=RunsCode(marker)), f)
    with pytest.raises(DisallowedPickleError, match='P9_bad_data.pkl'):
        load_emdb_sequence(str(path))
    assert not marker.exists()


def test_command_line_tool(emdb_root, tmp_path, run_script):
    tool = os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'dataset_converters',
                        'emdb_converter.py')
    status, _, out = run_script(tool, emdb_root['root'], tmp_path)
    assert status == 0 and f'emdb1: {2 * len(KEPT)}' in out
    status, message, _ = run_script(tool, emdb_root['root'], tmp_path)
    assert status == 1 and 'already exist' in message
