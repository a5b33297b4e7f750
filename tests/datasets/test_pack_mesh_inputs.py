"""PackMeshInputs with every training label, with some, and at inference (image + box only)."""
import copy

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from postometro_mm.datasets import build_mesh_data_info
from postometro_mm.datasets.transforms import MeshTopdownAffine, PackMeshInputs

LABEL_KEYS = ('keypoints', 'keypoints_visible', 'joints_2d', 'joints_2d_visible', 'joints_3d',
              'joints_3d_visible', 'smpl_pose', 'smpl_betas', 'gender', 'has_smpl', 'has_3d',
              'has_2d')


def _image(h=90, w=120, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def labelled_crop():
    """A training sample with every label, cropped to 64×64."""
    rng = np.random.default_rng(0)
    joints_2d = np.concatenate([rng.uniform(20, 100, (24, 2)), np.ones((24, 1))], 1)
    joints_3d = np.concatenate([rng.normal(0, 0.3, (24, 3)), np.ones((24, 1))], 1)
    info = build_mesh_data_info(
        center=(60.0, 45.0), box_side=80.0, joints_2d=joints_2d, joints_3d=joints_3d,
        smpl_pose=rng.normal(0, 0.2, 72), smpl_betas=rng.normal(0, 1, 10), has_smpl=True,
        gender=2, img_path='person.jpg', id=7, dataset_name='synthetic', seq_name='s',
        frame_id=3)
    info['img'] = _image()
    info['img_shape'] = info['ori_shape'] = (90, 120)
    return MeshTopdownAffine(input_size=(64, 64))(info)


def test_inference_pipeline_packs_image_box_and_crop():
    """The config's test pipeline, with the box of a detector, and no label at all."""
    pipeline = Compose([dict(type='LoadMeshImage'), dict(type='GetBBoxCenterScale',
                                                         padding=1.2),
                        dict(type='MeshTopdownAffine', input_size=(64, 64)),
                        dict(type='PackMeshInputs')])
    image = _image()
    box = np.array([[30.0, 10.0, 70.0, 80.0]], np.float32)
    packed = pipeline(dict(img=image.copy(), img_path=None, bbox=box,
                           bbox_score=np.array([0.7], np.float32)))

    # independent crop: square side 1.2·max(w, h) = 84 around the box centre (50, 45)
    k = 64 / 84.0
    matrix = np.array([[k, 0, 32 - k * 50.0], [0, k, 32 - k * 45.0]])
    expected = cv2.warpAffine(image, matrix, (64, 64), flags=cv2.INTER_LINEAR)
    inputs, sample = packed['inputs'], packed['data_samples']
    assert inputs.dtype == torch.uint8 and inputs.shape == (3, 64, 64)
    assert np.abs(inputs.numpy().transpose(1, 2, 0).astype(int) - expected).max() <= 1

    gt = sample.gt_instances
    assert set(gt.keys()) == {'bbox', 'bbox_center', 'bbox_scale', 'bboxes', 'bbox_scores'}
    np.testing.assert_array_equal(gt.bboxes, box)
    np.testing.assert_allclose(gt.bbox_scores, [0.7])
    assert len(sample.gt_instance_labels.keys()) == 0
    meta = sample.metainfo
    np.testing.assert_allclose(meta['input_center'], [50.0, 45.0])
    np.testing.assert_allclose(meta['input_scale'], [84.0, 84.0], rtol=1e-6)
    assert meta['input_size'] == (64, 64) and meta['flip'] is False
    assert meta['ori_shape'] == (90, 120)


def test_labels_are_optional_and_the_rest_is_unchanged(labelled_crop):
    full = PackMeshInputs()(copy.deepcopy(labelled_crop))['data_samples']
    unlabelled = {k: v for k, v in copy.deepcopy(labelled_crop).items() if k not in LABEL_KEYS}
    packed = PackMeshInputs()(unlabelled)
    bare = packed['data_samples']
    np.testing.assert_array_equal(packed['inputs'].numpy(),
                                  labelled_crop['img'].transpose(2, 0, 1))
    assert len(bare.gt_instance_labels.keys()) == 0
    assert set(full.gt_instance_labels.keys()) == set(LABEL_KEYS) - {
        'joints_2d_visible', 'joints_3d_visible'}
    assert set(bare.gt_instances.keys()) == set(full.gt_instances.keys()) - set(LABEL_KEYS)
    for key in bare.gt_instances.keys():
        np.testing.assert_array_equal(bare.gt_instances.get(key), full.gt_instances.get(key))
    np.testing.assert_array_equal(bare.gt_instances.bbox_scores, [1.0])  # no detector score
    assert bare.metainfo.keys() == full.metainfo.keys()
    assert bare.metainfo['id'] == 7 and bare.metainfo['img_path'] == 'person.jpg'


def test_partial_labels(labelled_crop):
    only_2d = {k: v for k, v in copy.deepcopy(labelled_crop).items()
               if k not in LABEL_KEYS or k in ('keypoints', 'keypoints_visible', 'joints_2d',
                                               'joints_2d_visible')}
    labels = PackMeshInputs()(only_2d)['data_samples'].gt_instance_labels
    assert set(labels.keys()) == {'keypoints', 'keypoints_visible', 'joints_2d'}
    np.testing.assert_allclose(labels.joints_2d[0, :, :2].numpy(),
                               labelled_crop['joints_2d'][0] / 32.0 - 1.0, atol=1e-6)
    np.testing.assert_allclose(labels.keypoints.numpy(), labelled_crop['keypoints'])

    broken = copy.deepcopy(labelled_crop)
    del broken['joints_3d_visible']
    with pytest.raises(KeyError, match='"joints_3d" but not "joints_3d_visible"'):
        PackMeshInputs()(broken)
