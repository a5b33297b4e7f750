"""Tests of the quickstart's synthetic world generator."""
import importlib.util
import json
import os
import os.path as osp
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from postometro_mm.body_models import SMPL
from postometro_mm.body_models.joint_sets import J24_NAMES, J24_TO_COCO17, SMPL24_NAMES
from postometro_mm.datasets import PW3DDataset, SPINNpzDataset
from postometro_mm.quickstart import SyntheticPeople, generate_world
from postometro_mm.quickstart.backgrounds import TEXTURES, random_background
from postometro_mm.quickstart.pose_sampling import (axis_angle_to_matrix, euler_xyz_to_matrix,
                                                    joint_limits, matrix_to_axis_angle,
                                                    sample_global_orient, sample_joint_angles,
                                                    upright_orientation)
from postometro_mm.quickstart.pw3d_format import openpose18_from_j24
from postometro_mm.quickstart.scene import (MASK_OCCLUDER, OCCLUDER, OUTSIDE_IMAGE,
                                            SELF_OCCLUDED, VISIBLE, PinholeCamera,
                                            joint_visibility)
from postometro_mm.visualization.renderer import rasterize

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'quickstart_world.py'
SIZES = dict(num_train=4, num_test=5, num_test_occluded=6)
ARGS = dict(image_size=128, seed=3, frames_per_sequence=3, progress=False)


@pytest.fixture(scope='module')
def world(tmp_path_factory, synthetic_body_model):
    return generate_world(str(tmp_path_factory.mktemp('world')), **SIZES,
                          body_model=synthetic_body_model, **ARGS)


@pytest.fixture(scope='module')
def people(synthetic_body_model):
    return SyntheticPeople(synthetic_body_model['model_dir'],
                           synthetic_body_model['j_regressor_extra'])


def _annotations(world, split):
    with np.load(world['splits'][split]['ann_file']) as npz:
        return {key: npz[key] for key in npz.files}


def _files(root):
    return sorted(osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


# -- pose sampling ----------------------------------------------------------------------------
def test_rotation_helpers_match_scipy():
    rng = np.random.default_rng(0)
    angles = rng.uniform(-np.pi, np.pi, size=(50, 3))
    expected = Rotation.from_euler('xyz', angles).as_matrix()  # extrinsic x, then y, then z
    np.testing.assert_allclose(euler_xyz_to_matrix(angles), expected, atol=1e-12)
    rotvec = Rotation.from_matrix(expected).as_rotvec()
    np.testing.assert_allclose(axis_angle_to_matrix(rotvec), expected, atol=1e-12)
    ours = matrix_to_axis_angle(expected)
    np.testing.assert_allclose(Rotation.from_rotvec(ours).as_matrix(), expected, atol=1e-9)
    half_turn = np.diag([1.0, -1.0, -1.0])  # angle pi exactly (the facing-camera orientation)
    np.testing.assert_allclose(axis_angle_to_matrix(matrix_to_axis_angle(half_turn)), half_turn,
                               atol=1e-12)


def test_joint_limits_are_mirrored_and_respected():
    limits = joint_limits()
    left, right = SMPL24_NAMES.index('left_elbow'), SMPL24_NAMES.index('right_elbow')
    np.testing.assert_allclose(limits[right, 0], limits[left, 0])
    np.testing.assert_allclose(limits[right, 1:], -limits[left, 1:, ::-1])
    rng = np.random.default_rng(1)
    samples = np.stack([sample_joint_angles(rng) for _ in range(300)])
    assert np.all(samples[:, 1:] >= limits[1:, :, 0] - 1e-12)
    assert np.all(samples[:, 1:] <= limits[1:, :, 2] + 1e-12)
    knee = samples[:, SMPL24_NAMES.index('left_knee'), 0]
    assert np.median(knee) < np.deg2rad(30) and knee.max() > np.deg2rad(70)


@pytest.mark.parametrize('joint,axis,degrees,child,coordinate,sign', [
    ('left_knee', 0, 90, 'left_ankle', 2, -1),     # knee flexion: the shin goes backward
    ('left_hip', 0, -60, 'left_knee', 2, +1),      # hip flexion: the thigh goes forward
    ('left_elbow', 1, -90, 'left_wrist', 2, +1),   # elbow flexion: the hand comes forward
    ('right_elbow', 1, 90, 'right_wrist', 2, +1),  # the mirrored right elbow too
    ('left_shoulder', 2, -60, 'left_elbow', 1, -1),  # negative z lowers the left arm
])
def test_joint_axis_conventions(synthetic_body_model, joint, axis, degrees, child, coordinate,
                                sign):
    """The documented meaning of the table's angles holds on the posed body (template
    frame: +y up, +z forward)."""
    model = SMPL(synthetic_body_model['model_dir'])
    angles = np.zeros((24, 3))
    angles[SMPL24_NAMES.index(joint), axis] = np.deg2rad(degrees)
    body_pose = matrix_to_axis_angle(euler_xyz_to_matrix(angles[1:])).reshape(1, 69)
    with torch.no_grad():
        rest, posed = (model(torch.zeros(1, 10), torch.as_tensor(p, dtype=torch.float32),
                             torch.zeros(1, 3))['joints'][0].numpy()
                       for p in (np.zeros((1, 69)), body_pose))
    parent, tip = SMPL24_NAMES.index(joint), SMPL24_NAMES.index(child)
    moved = (posed[tip] - posed[parent])[coordinate] - (rest[tip] - rest[parent])[coordinate]
    assert sign * moved > 0.05


def test_global_orientation_is_upright_and_faces_the_camera():
    facing = upright_orientation(0.0)
    np.testing.assert_allclose(facing @ [0, 1, 0], [0, -1, 0], atol=1e-12)  # up -> image up
    np.testing.assert_allclose(facing @ [0, 0, 1], [0, 0, -1], atol=1e-12)  # towards camera
    rng = np.random.default_rng(2)
    up = np.stack([axis_angle_to_matrix(sample_global_orient(rng)) @ [0, 1, 0]
                   for _ in range(200)])
    assert np.all(up[:, 1] < -np.cos(np.deg2rad(40)))


def test_backgrounds_are_deterministic_and_varied():
    for name, texture in TEXTURES.items():
        a = texture(np.random.default_rng(5), 40, 50)
        assert a.shape == (40, 50, 3) and a.min() >= 0 and a.max() <= 255, name
        np.testing.assert_array_equal(a, texture(np.random.default_rng(5), 40, 50))
    first = random_background(np.random.default_rng(7), 64, 64)
    assert first.dtype == np.uint8
    np.testing.assert_array_equal(first, random_background(np.random.default_rng(7), 64, 64))
    other = random_background(np.random.default_rng(8), 64, 64)
    assert np.abs(first.astype(int) - other).mean() > 5


# -- visibility -------------------------------------------------------------------------------
def _scene_codes(people, yaw_deg, arms_down=False, size=192):
    """J24 visibility codes of the male T-pose (or with the arms lowered by 75 degrees)
    turned by ``yaw_deg``, 4 m before the camera."""
    camera = PinholeCamera(size, 2.0 * size)
    angles = np.zeros((24, 3))
    if arms_down:
        angles[SMPL24_NAMES.index('left_shoulder'), 2] = np.deg2rad(-75)
        angles[SMPL24_NAMES.index('right_shoulder'), 2] = np.deg2rad(75)
    pose = np.concatenate([matrix_to_axis_angle(upright_orientation(np.deg2rad(yaw_deg))),
                           matrix_to_axis_angle(euler_xyz_to_matrix(angles[1:])).ravel()])
    vertices, _, j24 = people.pose('m', pose, np.zeros(10))
    offset = np.array([0.0, 0.0, 4.0]) - vertices.mean(axis=0)
    raster = rasterize(vertices + offset, people.faces, (size, size), camera.focal_length,
                       camera.principal_point)
    codes = joint_visibility(j24 + offset, camera, raster.face_index, raster.depth,
                             people.parts['m'][1])
    return dict(zip(J24_NAMES, codes)), camera, j24 + offset, raster


def test_t_pose_facing_the_camera_is_fully_visible(people):
    codes, *_ = _scene_codes(people, 0.0)
    assert all(code == VISIBLE for code in codes.values()), codes


def test_face_is_hidden_from_behind(people):
    codes, *_ = _scene_codes(people, 180.0)
    for name in ('Nose', 'L_Eye', 'R_Eye'):
        assert codes[name] == SELF_OCCLUDED, (name, codes)
    for name in ('L_Shoulder', 'R_Shoulder', 'L_Hip', 'R_Hip', 'L_Wrist', 'R_Ankle'):
        assert codes[name] == VISIBLE, (name, codes)


def test_far_side_is_hidden_in_profile(people):
    codes, _, joints, _ = _scene_codes(people, 90.0, arms_down=True)
    near, far = ('L', 'R') if joints[J24_NAMES.index('L_Wrist'), 2] < joints[
        J24_NAMES.index('R_Wrist'), 2] else ('R', 'L')
    for joint in ('Wrist', 'Elbow', 'Shoulder', 'Hip', 'Knee', 'Ear', 'Eye'):
        assert codes[f'{near}_{joint}'] == VISIBLE, codes
        assert codes[f'{far}_{joint}'] == SELF_OCCLUDED, codes


def test_occluder_and_image_border_hide_joints(people):
    codes, camera, joints, raster = _scene_codes(people, 0.0)
    pixels = np.round(camera.project(joints)).astype(int)
    occluder = np.zeros(raster.depth.shape, dtype=bool)
    col, row = pixels[J24_NAMES.index('L_Elbow')]
    occluder[row - 2:row + 3, col - 2:col + 3] = True
    shifted = joints + np.array([0.9, 0.0, 0.0])  # the left hand leaves the image
    codes = joint_visibility(joints, camera, raster.face_index, raster.depth,
                             people.parts['m'][1], occluder)
    assert codes[J24_NAMES.index('L_Elbow')] == OCCLUDER
    assert (codes == VISIBLE).sum() == 23
    outside = joint_visibility(shifted, camera, np.full_like(raster.face_index, -1),
                               np.zeros_like(raster.depth), people.parts['m'][1])
    u = camera.project(shifted)[:, 0]
    np.testing.assert_array_equal(outside == OUTSIDE_IMAGE, np.round(u) >= camera.image_size)
    assert (outside == OUTSIDE_IMAGE).any()


# -- the generated world ----------------------------------------------------------------------
def test_counts_layout_and_manifest(world):
    assert world['counts'] == dict(train=4, test=5, test_occluded=6)
    assert world['generated'] == ['train', 'test', 'test_occluded']
    for split, count in world['counts'].items():
        info = world['splits'][split]
        ann = _annotations(world, split)
        assert len(ann['imgname']) == count == info['num_images']
        assert info['num_sequences'] == -(-count // 3)
        for name in ann['imgname']:
            image = cv2.imread(osp.join(info['data_root'], name))
            assert image.shape == (128, 128, 3)
        assert len(_files(info['masks'])) == count
        assert ann['pose'].shape == (count, 72) and ann['shape'].shape == (count, 10)
        assert ann['part'].shape == (count, 24, 3) and ann['S'].shape == (count, 24, 4)
        assert set(ann['gender']) <= {'m', 'f'}
        assert np.all(np.abs(ann['shape']) <= 2.5)
        # people of a sequence share gender and shape
        for seq in set(ann['seq_name']):
            rows = ann['seq_name'] == seq
            assert len(set(ann['gender'][rows])) == 1
            assert np.ptp(ann['shape'][rows], axis=0).max() == 0
    manifest = json.load(open(world['manifest']))
    assert manifest['result']['counts'] == world['counts']
    sequences = _files(osp.join(world['splits']['test']['pw3d_root'], 'sequenceFiles'))
    assert sequences == ['test/test_0000.pkl', 'test/test_0001.pkl']


def test_keypoint_visibility_against_masks(world):
    """Visible keypoints lie in the image and never under an occluder; keypoints under an
    occluder or outside the image have confidence 0; the occluded split has more occlusion."""
    under_occluder = {}
    for split, info in world['splits'].items():
        ann = _annotations(world, split)
        hidden = 0
        for name, part in zip(ann['imgname'], ann['part']):
            mask = cv2.imread(osp.join(info['data_root'], name.replace('imageFiles', 'masks')
                                       .replace('.jpg', '.png')), cv2.IMREAD_UNCHANGED)
            pixels = np.round(part[:, :2]).astype(int)
            inside = np.all((pixels >= 0) & (pixels < 128), axis=1)
            assert np.all(part[~inside, 2] == 0)
            labels = mask[pixels[inside, 1], pixels[inside, 0]]
            assert np.all(part[inside, 2][labels == MASK_OCCLUDER] == 0)
            hidden += int((labels == MASK_OCCLUDER).sum())
        under_occluder[split] = hidden / len(ann['imgname'])
        np.testing.assert_array_equal(ann['coco_keypoints'], ann['part'][:, J24_TO_COCO17])
        assert set(np.unique(ann['part'][:, :, 2])) <= {0.0, 1.0}
    assert under_occluder['test_occluded'] > under_occluder['test']
    assert under_occluder['test_occluded'] > 2
    stats = world['splits']['test_occluded']['visibility']
    assert stats['coco17_occluder'] > world['splits']['test']['visibility']['coco17_occluder']


def test_3d_joints_project_onto_2d_joints_and_match_smpl(world, people):
    for split in world['splits']:
        ann = _annotations(world, split)
        homogeneous = np.einsum('nij,nkj->nki', ann['cam_intrinsics'], ann['S'][..., :3])
        np.testing.assert_allclose(homogeneous[..., :2] / homogeneous[..., 2:],
                                   ann['part'][..., :2], atol=1e-6)
        assert np.all(ann['S'][..., 3] == 1) and np.all(ann['S'][:, :, 2] > 2.0)
        # the box holds the whole person, and the people fill most of the image
        side = ann['scale'] * 200
        assert np.all(np.abs(ann['part'][..., :2] - ann['center'][:, None]).max(axis=(1, 2))
                      <= side / 2)
        assert np.all((side / 1.2 > 0.5 * 128) & (side / 1.2 < 0.85 * 128))
    ann = _annotations(world, 'train')
    vertices, _, j24 = people.pose(str(ann['gender'][0]), ann['pose'][0], ann['shape'][0])
    np.testing.assert_allclose(j24 + ann['trans'][0], ann['S'][0, :, :3], atol=1e-6)


def test_3dpw_sequence_files_convert_to_the_same_people(world):
    info = world['splits']['test']
    with open(osp.join(info['pw3d_root'], 'sequenceFiles', 'test', 'test_0001.pkl'), 'rb') as f:
        sequence = pickle.load(f, encoding='latin1')
    assert sequence['sequence'] == 'test_0001' and sequence['genders'][0] in ('m', 'f')
    assert sequence['poses'][0].shape == (2, 72) and sequence['poses2d'][0].shape == (2, 3, 18)
    assert sequence['jointPositions'][0].shape == (2, 72)
    assert sequence['cam_poses'].shape == (2, 4, 4) and sequence['betas'][0].shape == (10, )
    np.testing.assert_array_equal(sequence['img_frame_ids'], np.arange(2))
    assert not np.allclose(sequence['cam_poses'][0], np.eye(4))  # a real world frame

    ours = _annotations(world, 'test')
    with np.load(info['pw3d_ann_file']) as npz:
        converted = {key: npz[key] for key in npz.files}
    np.testing.assert_array_equal(converted['imgname'], ours['imgname'])
    np.testing.assert_allclose(converted['S'], ours['S'], atol=1e-4)
    np.testing.assert_allclose(converted['part'][..., :2], ours['part'][..., :2], atol=1e-3)
    np.testing.assert_allclose(converted['coco_keypoints'], ours['coco_keypoints'], atol=1e-9)
    np.testing.assert_allclose(axis_angle_to_matrix(converted['pose'][:, :3]),
                               axis_angle_to_matrix(ours['pose'][:, :3]), atol=1e-9)
    np.testing.assert_allclose(converted['pose'][:, 3:], ours['pose'][:, 3:])
    np.testing.assert_array_equal(converted['gender'], ours['gender'])
    # the OpenPose-18 neck is the J24 neck; the others are the COCO-17 keypoints reordered
    op18 = openpose18_from_j24(ours['part'][4])
    np.testing.assert_allclose(op18[1], ours['part'][4, J24_NAMES.index('Neck')])


def test_dataset_classes_read_the_world(world):
    for split, info in world['splits'].items():
        dataset = SPINNpzDataset(ann_file=info['ann_file'], data_root=info['data_root'],
                                 data_prefix=dict(img=info['data_root']), test_mode=True)
        ann = _annotations(world, split)
        assert len(dataset) == len(ann['imgname'])
        sample = dataset.get_data_info(1)
        assert osp.isfile(sample['img_path'])
        np.testing.assert_allclose(sample['keypoints_visible'][0], ann['coco_keypoints'][1, :, 2])
        np.testing.assert_allclose(sample['joints_3d'][0], ann['S'][1, :, :3], atol=1e-6)
        assert sample['has_smpl'][0] == 1 and sample['gender'][0] in (1, 2)
        assert sample['seq_name'] == ann['seq_name'][1] and sample['frame_id'] == 1
    info = world['splits']['test']
    pw3d = PW3DDataset(ann_file=info['pw3d_ann_file'], data_prefix=dict(img=info['pw3d_root']),
                       test_mode=True)
    assert len(pw3d) == 5 and osp.isfile(pw3d.get_data_info(4)['img_path'])


def test_deterministic_by_seed(world, tmp_path, synthetic_body_model):
    again = generate_world(str(tmp_path / 'again'), **SIZES, body_model=synthetic_body_model,
                           **ARGS)
    first, second = world['out_dir'], again['out_dir']
    names = [n for n in _files(first) if not n.startswith('body_model')]
    assert names == _files(second)
    for name in names:
        a, b = osp.join(first, name), osp.join(second, name)
        if name.endswith('.npz'):
            with np.load(a) as x, np.load(b) as y:
                assert x.files == y.files
                for key in x.files:
                    np.testing.assert_array_equal(x[key], y[key], err_msg=f'{name}:{key}')
        elif name.endswith('.json'):
            strip = lambda d: json.dumps(d, sort_keys=True).replace(first, '').replace(second, '')
            assert strip(json.load(open(a))) == strip(json.load(open(b))), name
        else:
            assert Path(a).read_bytes() == Path(b).read_bytes(), name
    other = generate_world(str(tmp_path / 'other'), num_train=2, num_test=1,
                           num_test_occluded=1, body_model=synthetic_body_model,
                           **dict(ARGS, seed=4))
    name = 'train/imageFiles/train_0000/image_00000.jpg'
    assert Path(first, name).read_bytes() != Path(other['out_dir'], name).read_bytes()


def test_rerun_reuses_and_refuses_to_overwrite(tmp_path, synthetic_body_model):
    out = str(tmp_path / 'w')
    args = dict(body_model=synthetic_body_model['model_dir'], **ARGS)
    first = generate_world(out, 2, 1, 1, **args)
    assert first['generated'] == ['train', 'test', 'test_occluded']
    assert generate_world(out, 2, 1, 1, **args)['generated'] == []
    with pytest.raises(FileExistsError, match='force'):
        generate_world(out, 3, 1, 1, **args)
    image = Path(out, 'test', 'imageFiles', 'test_0000', 'image_00000.jpg')
    before = image.stat().st_mtime_ns
    train_image = Path(out, 'train', 'imageFiles', 'train_0000', 'image_00001.jpg')
    train_bytes = train_image.read_bytes()
    assert generate_world(out, 3, 1, 1, force=True, **args)['generated'] == ['train']
    assert image.stat().st_mtime_ns == before
    assert train_image.read_bytes() == train_bytes  # sample i does not depend on the count
    assert len(np.load(osp.join(out, 'train', 'quickstart_train.npz'))['imgname']) == 3
    assert not [n for n in os.listdir(out) if '.tmp' in n]


def test_bad_arguments(tmp_path, synthetic_body_model):
    with pytest.raises(ValueError, match='num_test'):
        generate_world(str(tmp_path), 1, 0, 1, body_model=synthetic_body_model)
    with pytest.raises(FileNotFoundError, match='no_such_folder'):
        generate_world(str(tmp_path), 1, 1, 1, body_model=str(tmp_path / 'no_such_folder'))


def test_command_line(tmp_path, synthetic_body_model, capsys):
    spec = importlib.util.spec_from_file_location('quickstart_world', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    argv = [str(tmp_path / 'cli'), '--num-train', '1', '--num-test', '1', '--num-test-occluded',
            '1', '--image-size', '96', '--body-model', synthetic_body_model['model_dir'],
            '--quiet']
    result = tool.main(argv)
    assert result['counts'] == dict(train=1, test=1, test_occluded=1)
    assert 'generated train, test, test_occluded' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='force'):
        tool.main(argv[:2] + ['2'] + argv[3:])
