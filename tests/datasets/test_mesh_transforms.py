"""Geometric consistency of the mesh transforms on samples with a known camera."""
import copy

import numpy as np
import pytest
import torch
from mesh_data_builders import box_of, camera_samples, dotted_image, rotvec_matrix
from mmcv.transforms import Compose

from postometro_mm.datasets import build_mesh_data_info
from postometro_mm.datasets.transforms import (MeshPixelNoise, MeshRandomFlip,
                                               MeshRandomRotation, MeshRandomScale,
                                               MeshTopdownAffine, PackMeshInputs,
                                               RandomOcclusion)

PELVIS = 14  # J24 index
K = np.array([[300.0, 0, 150], [0, 300.0, 130], [0, 0, 1]])


@pytest.fixture(scope='module')
def sample(people):
    data = camera_samples(people, 1, seed=3, K=K)
    center, side = box_of(data['joints_2d'][0])
    info = build_mesh_data_info(
        center=center, box_side=side,
        joints_2d=np.concatenate([data['joints_2d'][0], np.ones((24, 1))], 1),
        joints_3d=np.concatenate([data['joints_3d'][0], np.ones((24, 1))], 1),
        smpl_pose=data['pose'][0], smpl_betas=data['betas'][0], has_smpl=True, gender=1,
        cam_intrinsics=K, img_path=None, id=0, dataset_name='synthetic', seq_name='',
        frame_id=-1)
    info['img'] = dotted_image(240, 320, data['joints_2d'][0])
    info['img_shape'] = info['ori_shape'] = (240, 320)
    return dict(info=info, betas=data['betas'][0], side=side)


def crop(results, angle=0.0, flip_before=False, flip_after=False, scale=1.0):
    results = copy.deepcopy(results)
    steps = []
    if flip_before:
        steps.append(MeshRandomFlip(prob=1.0))
    results['bbox_rotation'] = np.array([angle], dtype=np.float32)
    results['bbox_scale'] = results['bbox_scale'] * scale
    steps.append(MeshTopdownAffine(input_size=(256, 256)))
    if flip_after:
        steps.append(MeshRandomFlip(prob=1.0))
    return Compose(steps)(results)


CASES = [dict(angle=0.0), dict(angle=25.0), dict(angle=-50.0, scale=1.2),
         dict(angle=35.0, flip_after=True), dict(angle=-20.0, flip_before=True, scale=0.8)]


@pytest.mark.parametrize('case', CASES)
def test_crop_projection_and_mesh_stay_consistent(sample, people, case):
    out = crop(sample['info'], **case)
    joints_3d, joints_2d = out['joints_3d'][0], out['joints_2d'][0]

    # 1. The transformed 3D joints project onto the transformed 2D joints through a plain
    #    pinhole camera whose focal length is f·(crop size / box size): only true if the 3D
    #    rotation matches the image rotation (and the flip mirrors the right axis).
    focal = K[0, 0] * 256 / (sample['side'] * case.get('scale', 1.0))
    principal = joints_2d - focal * joints_3d[:, :2] / joints_3d[:, 2:]
    np.testing.assert_allclose(principal, np.broadcast_to(principal.mean(0), principal.shape),
                               atol=2e-2)
    # 2. ... and through the transformed camera the sample carries.
    homogeneous = joints_3d @ out['cam_intrinsics'][0].T
    np.testing.assert_allclose(homogeneous[:, :2] / homogeneous[:, 2:], joints_2d, atol=2e-2)

    # 3. The SMPL pose was transformed with them: its mesh's joints equal the 3D joints
    #    (root-relative; the synthetic body is left/right symmetric, so this holds for flips).
    mesh_joints = people.j24(out['smpl_pose'], sample['betas'][None], 'male')[0]
    np.testing.assert_allclose(mesh_joints - mesh_joints[PELVIS],
                               joints_3d - joints_3d[PELVIS], atol=1e-4)

    # 4. The image moved with the keypoints: the white dots are under the transformed joints.
    img = out['img']
    assert img.shape == (256, 256, 3)
    xy = np.round(joints_2d).astype(int)
    inside = (xy >= 2).all(1) & (xy < 254).all(1)
    brightness = img[xy[inside, 1], xy[inside, 0]].mean(axis=1)
    assert inside.sum() >= 18 and (brightness > 150).mean() > 0.9


def test_flip_twice_is_identity(sample):
    cropped = crop(sample['info'], angle=10.0)
    twice = Compose([MeshRandomFlip(prob=1.0), MeshRandomFlip(prob=1.0)])(
        copy.deepcopy(cropped))
    for key in ('img', 'keypoints', 'keypoints_visible', 'joints_2d', 'joints_2d_visible',
                'joints_3d', 'joints_3d_visible', 'smpl_pose', 'cam_intrinsics', 'bbox_center'):
        np.testing.assert_allclose(twice[key], cropped[key], atol=1e-5, err_msg=key)
    assert twice['flip'] is False
    once = MeshRandomFlip(prob=1.0)(copy.deepcopy(cropped))
    assert once['flip'] is True
    assert not np.allclose(once['joints_2d'], cropped['joints_2d'])
    # after the crop the box still describes the crop region in the original image
    np.testing.assert_array_equal(once['bbox_center'], cropped['bbox_center'])
    # global orientation mirrored: R -> M R M with M = diag(-1, 1, 1)
    mirror = np.diag([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(rotvec_matrix(once['smpl_pose'][0, :3]),
                               mirror @ rotvec_matrix(cropped['smpl_pose'][0, :3]) @ mirror,
                               atol=1e-5)


@pytest.mark.parametrize('angle', [17.0, -45.0])
def test_rotation_then_inverse_rotation_is_identity(sample, angle):
    rotated = crop(sample['info'], angle=angle)
    rotated['bbox_center'] = np.array([[128.0, 128.0]], dtype=np.float32)
    rotated['bbox_scale'] = np.array([[256.0, 256.0]], dtype=np.float32)
    back = crop(rotated, angle=-angle)
    straight = crop(sample['info'], angle=0.0)
    assert not np.allclose(rotated['joints_2d'], straight['joints_2d'], atol=1.0)
    for key in ('keypoints', 'joints_2d'):
        np.testing.assert_allclose(back[key], straight[key], atol=1e-2, err_msg=key)
    np.testing.assert_allclose(back['joints_3d'], straight['joints_3d'], atol=1e-5)
    np.testing.assert_allclose(rotvec_matrix(back['smpl_pose'][0, :3]),
                               rotvec_matrix(straight['smpl_pose'][0, :3]), atol=1e-5)


def test_orthographic_camera_consistency(sample):
    """Weak-perspective data (METRO's labels): 2D = a·X[:2] + b stays true after augmentation."""
    info = copy.deepcopy(sample['info'])
    joints_3d = info['joints_3d'][0] - info['joints_3d'][0, PELVIS]
    info['joints_3d'] = joints_3d[None]
    info['joints_2d'] = (70.0 * joints_3d[:, :2] + [160.0, 120.0])[None]
    info.pop('cam_intrinsics')
    for case in CASES:
        out = crop(info, **case)
        X, x = out['joints_3d'][0][:, :2], out['joints_2d'][0]
        Xc, xc = X - X.mean(0), x - x.mean(0)
        a = (Xc * xc).sum() / (Xc * Xc).sum()
        np.testing.assert_allclose(xc, a * Xc, atol=1e-2)
        np.testing.assert_allclose(a, 70.0 * 256 / (sample['side'] * case.get('scale', 1.0)),
                                   rtol=1e-4)


def test_random_parameter_distributions():
    np.random.seed(0)
    rotation, scale = MeshRandomRotation(), MeshRandomScale()
    angles = np.array([rotation({})['bbox_rotation'][0] for _ in range(3000)])
    assert abs((angles == 0).mean() - 0.6) < 0.04 and np.abs(angles).max() <= 60
    assert 22 < angles[angles != 0].std() < 32
    factors = np.array([scale(dict(bbox_scale=np.ones((1, 2))))['bbox_scale'][0, 0]
                        for _ in range(3000)])
    assert factors.min() >= 0.75 and factors.max() <= 1.25 and abs(factors.mean() - 1) < 0.02
    img = np.full((4, 4, 3), 100, dtype=np.uint8)
    ratios = np.array([MeshPixelNoise()(dict(img=img.copy()))['img'][0, 0] / 100.0
                       for _ in range(500)])
    assert ratios.min() >= 0.59 and ratios.max() <= 1.41
    assert np.std(ratios[:, 0] - ratios[:, 1]) > 0.1   # channels get their own factor
    assert MeshPixelNoise()(dict(img=np.full((2, 2, 3), 250, np.uint8)))['img'].max() <= 255


def test_random_occlusion_marks_covered_keypoints(sample):
    np.random.seed(1)
    out = crop(sample['info'], angle=0.0)
    out['img'] = np.full_like(out['img'], 7)
    occluded = RandomOcclusion(prob=1.0, num_occluders=(2, 2), area_range=(0.1, 0.2),
                               fills=('solid', ), mark_invisible=True)(copy.deepcopy(out))
    changed = (occluded['img'] != 7).any(axis=2)
    assert 0.1 <= changed.mean() <= 0.4
    for key, vis_key in (('keypoints', 'keypoints_visible'), ('joints_2d', 'joints_2d_visible')):
        xy = np.round(out[key][0]).astype(int)
        inside = (xy >= 0).all(1) & (xy < 256).all(1)
        covered = np.zeros(len(xy), dtype=bool)
        covered[inside] = changed[xy[inside, 1], xy[inside, 0]]
        np.testing.assert_array_equal(occluded[vis_key][0], ~covered & (out[vis_key][0] > 0))
    everything = RandomOcclusion(prob=1.0, num_occluders=(1, 1), area_range=(1.0, 1.0),
                                 aspect_range=(1.0, 1.0), mark_invisible=True)(copy.deepcopy(out))
    assert everything['has_2d'][0] == 0 and everything['joints_2d_visible'].sum() == 0
    for fill in ('noise', 'patch'):
        textured = RandomOcclusion(prob=1.0, fills=(fill, ))(copy.deepcopy(sample['info']))
        assert textured['img'].shape == sample['info']['img'].shape
    np.testing.assert_array_equal(RandomOcclusion(prob=0.0)(copy.deepcopy(out))['img'],
                                  out['img'])


def test_pack_mesh_inputs(sample):
    out = crop(sample['info'], angle=15.0, flip_after=True)
    packed = PackMeshInputs()(copy.deepcopy(out))
    inputs, data_sample = packed['inputs'], packed['data_samples']
    assert inputs.dtype == torch.uint8 and inputs.shape == (3, 256, 256)
    np.testing.assert_array_equal(inputs.numpy(), out['img'].transpose(2, 0, 1))
    labels, gt = data_sample.gt_instance_labels, data_sample.gt_instances
    assert labels.joints_2d.shape == (1, 24, 3) and labels.joints_2d.dtype == torch.float32
    np.testing.assert_allclose(labels.joints_2d[0, :, :2].numpy(),
                               out['joints_2d'][0] / 128.0 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(labels.joints_2d[0, :, 2].numpy(), out['joints_2d_visible'][0])
    assert labels.joints_3d.shape == (1, 24, 4)
    np.testing.assert_allclose(labels.joints_3d[0, :, :3].numpy(), out['joints_3d'][0])
    assert labels.gender.dtype == torch.int64 and labels.gender.tolist() == [1]
    for key, shape in (('keypoints', (1, 17, 2)), ('keypoints_visible', (1, 17)),
                       ('smpl_pose', (1, 72)), ('smpl_betas', (1, 10)), ('has_smpl', (1, )),
                       ('has_3d', (1, )), ('has_2d', (1, ))):
        assert tuple(labels.get(key).shape) == shape and labels.get(key).dtype == torch.float32
    assert isinstance(gt.joints_3d, np.ndarray) and gt.bboxes.shape == (1, 4)
    np.testing.assert_allclose(gt.cam_intrinsics, out['cam_intrinsics'])
    meta = data_sample.metainfo
    assert meta['flip'] is True and meta['input_size'] == (256, 256)
    assert {'id', 'dataset_name', 'seq_name', 'frame_id', 'input_center', 'input_scale',
            'ori_shape', 'img_shape', 'img_path'} <= set(meta)
    with pytest.raises(KeyError, match='MeshTopdownAffine'):
        PackMeshInputs()(copy.deepcopy(sample['info']))
