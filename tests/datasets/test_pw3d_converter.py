"""3DPW converter on official-layout sequence pickles, and PW3DDataset over its output."""
import os
import os.path as osp
import pickle
import re

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from postometro_mm.body_models import DisallowedPickleError
from postometro_mm.datasets import PW3DDataset
from postometro_mm.datasets.converters import convert_pw3d
from postometro_mm.datasets.converters.pw3d import load_pw3d_sequence

from mesh_data_builders import PW3D_LAYOUT, project, rotvec_matrix
from crafted_pickles import RunsCode

# SPEC §4.5, written out here independently of postometro_mm.datasets.subsets
OCC_BASE_NAMES = {'courtyard_backpack', 'courtyard_basketball', 'courtyard_bodyScannerMotions',
                  'courtyard_box', 'courtyard_golf', 'courtyard_jacket', 'courtyard_laceShoe',
                  'downtown_stairs', 'flat_guitar', 'flat_packBags', 'outdoors_climbing',
                  'outdoors_crosscountry', 'outdoors_fencing', 'outdoors_freestyle',
                  'outdoors_golf', 'outdoors_parcours', 'outdoors_slalom'}
PC_RANGES = {'courtyard_basketball_00': (200, 280), 'courtyard_captureSelfies_00': (500, 600),
             'courtyard_dancing_00': (60, 370), 'courtyard_dancing_01': (60, 270),
             'courtyard_hug_00': (100, 500), 'downtown_bus_00': (1620, 1900)}
SKIPPED_FRAMES = (1, 2)   # no 2D detection / invalid camera pose, for every person


def expected_records():
    """(split, seq, person, frame) of every record the converter must write."""
    records = []
    for split, seq, frames, num_people in PW3D_LAYOUT:
        for person in range(num_people):
            records += [(split, seq, person, f) for f in range(frames)
                        if f not in SKIPPED_FRAMES]
    return records


@pytest.fixture(scope='module')
def converted(pw3d_root, synthetic_body_model, tmp_path_factory):
    out_dir = str(tmp_path_factory.mktemp('pw3d_converted'))
    counts = convert_pw3d(pw3d_root['root'], out_dir,
                          body_model_dir=synthetic_body_model['model_dir'],
                          j_regressor_extra=synthetic_body_model['j_regressor_extra'],
                          progress=False)
    files = {name: dict(np.load(osp.join(out_dir, f'pw3d_{name}.npz')))
             for name in ('train', 'validation', 'test', 'occ', 'pc')}
    return dict(out_dir=out_dir, counts=counts, files=files)


def test_record_counts_and_subset_membership(converted):
    records = expected_records()
    occ = [r for r in records if r[1][:-3] in OCC_BASE_NAMES]
    pc = [r for r in records if r[1] in PC_RANGES and
          PC_RANGES[r[1]][0] <= r[3] < PC_RANGES[r[1]][1]]
    expected = {split: [r for r in records if r[0] == split]
                for split in ('train', 'validation', 'test')}
    expected.update(occ=occ, pc=pc)
    for name, recs in expected.items():
        data = converted['files'][name]
        got = sorted(zip(data['split'], data['seq_name'], data['person_id'].tolist(),
                         data['frame_id'].tolist()))
        assert got == sorted(recs), name
        assert converted['counts'][name] == len(recs)
    assert converted['counts']['skipped_invalid_campose'] == sum(
        p for _, _, _, p in PW3D_LAYOUT)
    assert len(pc) == 2 * 210 + 400 and len(occ) == (6 - 2) + (7 - 2)


def test_record_values_match_independent_computation(converted, pw3d_root, people):
    data = converted['files']['train']
    seq = pw3d_root['sequences']['courtyard_dancing_01']
    raw, expected = seq['data'], seq['expected']
    rows = np.flatnonzero((data['seq_name'] == 'courtyard_dancing_01') &
                          (data['person_id'] == 1))
    for row in rows[[0, 7, -1]]:
        frame = int(data['frame_id'][row])
        assert data['imgname'][row] == f'imageFiles/courtyard_dancing_01/image_{frame:05d}.jpg'
        assert data['gender'][row] == 'f'
        np.testing.assert_allclose(data['shape'][row], raw['betas'][1])
        # global orientation rotated into the camera frame: R_cam @ R_global
        R_expected = raw['cam_poses'][frame, :3, :3] @ rotvec_matrix(raw['poses'][1][frame, :3])
        np.testing.assert_allclose(rotvec_matrix(data['pose'][row, :3]), R_expected, atol=1e-6)
        np.testing.assert_allclose(data['pose'][row, 3:], raw['poses'][1][frame, 3:])
        # COCO-17 keypoints with their confidences, box from the visible ones
        coco = expected['coco'][1][frame]
        np.testing.assert_allclose(data['coco_keypoints'][row], coco)
        visible = coco[:, 2] > 0
        lo, hi = coco[visible, :2].min(0), coco[visible, :2].max(0)
        np.testing.assert_allclose(data['center'][row], (lo + hi) / 2)
        np.testing.assert_allclose(data['scale'][row] * 200, 1.2 * (hi - lo).max())
        # J24 3D in the camera frame, and J24 2D = its projection
        np.testing.assert_allclose(data['S'][row, :, :3], expected['joints_cam'][1][frame],
                                   atol=1e-4)
        np.testing.assert_allclose(data['part'][row, :, :2],
                                   project(data['S'][row, :, :3], raw['cam_intrinsics']),
                                   atol=1e-3)
        assert (data['S'][row, :, 3] == 1).all() and (data['part'][row, :, 2] == 1).all()
        np.testing.assert_allclose(data['cam_intrinsics'][row], raw['cam_intrinsics'])

    # The camera-frame pose alone reproduces the camera-frame joints up to a translation.
    row = rows[3]
    joints = people.j24(data['pose'][row:row + 1], data['shape'][row:row + 1], 'female')[0]
    offset = data['S'][row, :, :3] - joints
    np.testing.assert_allclose(offset, np.broadcast_to(offset[0], offset.shape), atol=1e-4)


def test_without_body_model_uses_2d_detections(pw3d_root, tmp_path):
    counts = convert_pw3d(pw3d_root['root'], str(tmp_path), splits=('validation', ),
                          progress=False)
    data = np.load(tmp_path / 'pw3d_validation.npz')
    assert counts['validation'] == 3 and 'S' not in data.files
    # J24 slots of the COCO-17 joints hold the detections, the others are invisible
    coco = data['coco_keypoints'][0]
    j24_of_coco = [19, 20, 21, 22, 23, 9, 8, 10, 7, 11, 6, 3, 2, 4, 1, 5, 0]
    np.testing.assert_allclose(data['part'][0, j24_of_coco], coco)
    others = np.setdiff1d(np.arange(24), j24_of_coco)
    assert (data['part'][0, others, 2] == 0).all()


def test_refuses_to_overwrite_without_force(pw3d_root, tmp_path):
    convert_pw3d(pw3d_root['root'], str(tmp_path), splits=('validation', ), progress=False)
    before = os.path.getmtime(tmp_path / 'pw3d_validation.npz')
    with pytest.raises(FileExistsError, match='--force'):
        convert_pw3d(pw3d_root['root'], str(tmp_path), splits=('validation', ),
                     progress=False)
    convert_pw3d(pw3d_root['root'], str(tmp_path), splits=('validation', ), force=True,
                 progress=False)
    assert os.path.getmtime(tmp_path / 'pw3d_validation.npz') >= before
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]


def test_force_writes_all_outputs_or_none(pw3d_root, tmp_path, monkeypatch):
    convert_pw3d(pw3d_root['root'], str(tmp_path), splits=('validation', ), progress=False)
    def files():  # name -> (inode, contents): a replaced file gets a new inode
        return {f: (os.stat(tmp_path / f).st_ino, (tmp_path / f).read_bytes())
                for f in os.listdir(tmp_path) if (tmp_path / f).is_file()}

    before = files()
    assert set(before) == {'pw3d_validation.npz', 'pw3d_occ.npz', 'pw3d_pc.npz'}

    # the third output cannot be written: the first two keep their old contents
    calls = []
    savez = np.savez

    def savez_failing_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError('No space left on device')
        savez(*args, **kwargs)

    monkeypatch.setattr(np, 'savez', savez_failing_third)
    with pytest.raises(OSError, match='No space left'):
        convert_pw3d(pw3d_root['root'], str(tmp_path), splits=('validation', ), force=True,
                     progress=False)
    monkeypatch.undo()
    assert len(calls) == 3 and files() == before

    (tmp_path / 'pw3d_pc.npz').unlink()
    (tmp_path / 'pw3d_pc.npz').mkdir()  # a destination that is a folder: checked first
    with pytest.raises(IsADirectoryError, match='pw3d_pc.npz'):
        convert_pw3d(pw3d_root['root'], str(tmp_path), splits=('validation', ), force=True,
                     progress=False)
    after = files()
    assert after['pw3d_validation.npz'] == before['pw3d_validation.npz']
    assert set(after) == {'pw3d_validation.npz', 'pw3d_occ.npz'}  # no temporary file left


def test_command_line_tool(pw3d_root, tmp_path, run_script):
    script = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'dataset_converters',
                      'pw3d_converter.py')
    args = (pw3d_root['root'], tmp_path, '--splits', 'test')
    status, _, out = run_script(script, *args)
    assert status == 0
    lines = out.splitlines()
    num_test = sum(split == 'test' for split, *_ in expected_records())
    assert f'test: {num_test}' in lines and 'occ: 5' in lines       # downtown_stairs_00
    assert sorted(os.listdir(tmp_path)) == ['pw3d_occ.npz', 'pw3d_pc.npz', 'pw3d_test.npz']
    status, message, _ = run_script(script, *args)
    assert status == 1 and re.match('error: output file.*--force', message)


def test_missing_split_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='sequenceFiles'):
        convert_pw3d(str(tmp_path), str(tmp_path / 'out'), splits=('test', ), progress=False)


def test_pw3d_dataset_subsets(converted):
    train = osp.join(converted['out_dir'], 'pw3d_train.npz')
    occ = PW3DDataset(ann_file=train, subset='occ')
    assert {occ.get_data_info(i)['seq_name'] for i in range(len(occ))} == {'courtyard_box_00'}
    assert len(occ) == 4
    pc = PW3DDataset(ann_file=train, subset='pc')
    frames = [pc.get_data_info(i)['frame_id'] for i in range(len(pc))]
    assert len(pc) == 420 and min(frames) == 60 and max(frames) == 269
    test_only = PW3DDataset(ann_file=osp.join(converted['out_dir'], 'pw3d_pc.npz'),
                            subset='test')
    assert len(test_only) == 400
    ranged = PW3DDataset(ann_file=train, frame_ranges={'courtyard_box_00': (3, 5)})
    assert sorted(ranged.get_data_info(i)['frame_id'] for i in range(len(ranged))) == [3, 4]
    prefixed = PW3DDataset(ann_file=train, seq_prefixes=['courtyard_dan'])
    assert len(prefixed) == 540


def test_pw3d_dataset_data_info(converted):
    dataset = PW3DDataset(ann_file=osp.join(converted['out_dir'], 'pw3d_test.npz'),
                          data_prefix=dict(img='/data/3DPW'))
    info = dataset.get_data_info(0)
    raw = converted['files']['test']
    assert info['img_path'] == '/data/3DPW/' + raw['imgname'][0]
    assert info['dataset_name'] == '3dpw' and dataset.metainfo['dataset_name'] == '3dpw'
    assert info['gender'].tolist() == [1 if raw['gender'][0] == 'm' else 2]
    np.testing.assert_allclose(info['keypoints'][0], raw['coco_keypoints'][0, :, :2])
    np.testing.assert_array_equal(info['keypoints_visible'][0],
                                  raw['coco_keypoints'][0, :, 2] > 0)
    np.testing.assert_allclose(info['joints_3d'][0], raw['S'][0, :, :3], rtol=1e-6)
    np.testing.assert_allclose(info['cam_intrinsics'][0], raw['cam_intrinsics'][0])
    assert info['has_smpl'][0] == 1 and info['has_3d'][0] == 1 and info['has_2d'][0] == 1
    R = Rotation.from_rotvec(info['smpl_pose'][0, :3].astype(np.float64)).as_matrix()
    np.testing.assert_allclose(R, rotvec_matrix(raw['pose'][0, :3]), atol=1e-5)


def test_a_crafted_sequence_file_runs_no_code(tmp_path):
    marker = tmp_path / 'executed'
    path = tmp_path / 'outdoors_evil_00.pkl'
    with open(path, 'wb') as f:
        pickle.dump(dict(sequence='outdoors_evil_00', poses=[RunsCode(marker)]), f, protocol=2)
    with pytest.raises(DisallowedPickleError, match=r'outdoors_evil_00\.pkl.*system'):
        load_pw3d_sequence(str(path))
    assert not marker.exists()
