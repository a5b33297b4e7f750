"""SPINNpzDataset on a SPIN-layout npz: data_info schema and the full training pipeline."""
import numpy as np
import pytest
import torch
from mesh_data_builders import coco17_from_j24_by_name
from mmpose.structures import PoseDataSample

from postometro_mm.body_models import DisallowedPickleError
from postometro_mm.datasets import SPINNpzDataset
from postometro_mm.datasets.validation import InvalidAnnotationError
from crafted_pickles import RunsCode

TRAIN_PIPELINE = [
    dict(type='LoadMeshImage'),
    dict(type='MeshRandomScale'),
    dict(type='MeshRandomRotation'),
    dict(type='MeshTopdownAffine', input_size=(256, 256)),
    dict(type='MeshRandomFlip', prob=0.5),
    dict(type='MeshPixelNoise'),
    dict(type='RandomOcclusion', prob=0.5),
    dict(type='PackMeshInputs'),
]


@pytest.fixture(scope='module')
def dataset(spin_npz_set):
    return SPINNpzDataset(ann_file=spin_npz_set['path'],
                          data_prefix=dict(img=spin_npz_set['root']))


def test_data_info_matches_the_file(dataset, spin_npz_set):
    arrays = spin_npz_set['arrays']
    assert len(dataset) == len(arrays['imgname']) == 5
    assert dataset.metainfo['dataset_name'] == 'spin_npz'
    assert dataset.metainfo['num_keypoints'] == 17      # COCO-17 metainfo from mmpose
    expected_gender = {'m': 1, 'f': 2, 'n': 0}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        assert info['img_path'].endswith(arrays['imgname'][i])
        assert (info['id'], info['sample_idx'], info['dataset_name']) == (i, i, 'spin_npz')
        assert (info['seq_name'], info['frame_id']) == ('seq_a', i)
        side = 200 * arrays['scale'][i]
        np.testing.assert_allclose(info['bbox_center'], arrays['center'][i][None], rtol=1e-6)
        np.testing.assert_allclose(info['bbox_scale'], [[side, side]], rtol=1e-6)
        np.testing.assert_allclose(info['bbox'][0, 2:] - info['bbox'][0, :2], [side, side],
                                   rtol=1e-5)
        np.testing.assert_allclose(info['joints_2d'][0], arrays['part'][i, :, :2], rtol=1e-6)
        np.testing.assert_array_equal(info['joints_2d_visible'][0], arrays['part'][i, :, 2])
        coco = coco17_from_j24_by_name(arrays['part'][i])
        np.testing.assert_allclose(info['keypoints'][0], coco[:, :2], rtol=1e-6)
        np.testing.assert_array_equal(info['keypoints_visible'][0], coco[:, 2])
        np.testing.assert_allclose(info['joints_3d'][0], arrays['S'][i, :, :3], rtol=1e-6)
        assert info['gender'].tolist() == [expected_gender[arrays['gender'][i]]]
        assert info['gender'].dtype == np.int64 and info['has_3d'].tolist() == [1.0]
        has_smpl = bool(arrays['has_smpl'][i])
        assert info['has_smpl'].tolist() == [float(has_smpl)]
        if has_smpl:
            np.testing.assert_allclose(info['smpl_pose'][0], arrays['pose'][i], rtol=1e-6)
            np.testing.assert_allclose(info['smpl_betas'][0], arrays['shape'][i], rtol=1e-6)
        else:
            assert not info['smpl_pose'].any() and not info['smpl_betas'].any()
        for key, shape in (('bbox', (1, 4)), ('keypoints', (1, 17, 2)), ('joints_2d', (1, 24, 2)),
                           ('joints_3d', (1, 24, 3)), ('smpl_pose', (1, 72)),
                           ('smpl_betas', (1, 10)), ('has_2d', (1, ))):
            assert info[key].shape == shape and info[key].dtype == np.float32, key


def test_minimal_spin_file(tmp_path, spin_npz_set):
    """Only imgname/center/scale (e.g. SPIN's 3dpw_test.npz without 2D): no 2D/3D/SMPL."""
    arrays = spin_npz_set['arrays']
    path = tmp_path / 'minimal.npz'
    np.savez(path, imgname=np.array(['imageFiles/downtown_bus_00/image_01700.jpg']),
             center=arrays['center'][:1], scale=arrays['scale'][:1])
    info = SPINNpzDataset(ann_file=str(path)).get_data_info(0)
    assert (info['seq_name'], info['frame_id']) == ('downtown_bus_00', 1700)
    assert info['has_2d'][0] == info['has_3d'][0] == info['has_smpl'][0] == 0
    assert info['gender'][0] == 0 and 'cam_intrinsics' not in info


def test_training_pipeline_end_to_end(spin_npz_set):
    np.random.seed(0)
    dataset = SPINNpzDataset(ann_file=spin_npz_set['path'],
                             data_prefix=dict(img=spin_npz_set['root']),
                             pipeline=TRAIN_PIPELINE, test_mode=False)
    for i in range(len(dataset)):
        item = dataset[i]
        assert item['inputs'].shape == (3, 256, 256) and item['inputs'].dtype == torch.uint8
        sample = item['data_samples']
        assert isinstance(sample, PoseDataSample)
        assert sample.gt_instance_labels.joints_2d.shape == (1, 24, 3)
        assert sample.metainfo['ori_shape'] == (240, 320)
        assert sample.metainfo['seq_name'] == 'seq_a'


def test_serialized_and_plain_data_lists_agree(spin_npz_set):
    kwargs = dict(ann_file=spin_npz_set['path'], data_prefix=dict(img=spin_npz_set['root']))
    a = SPINNpzDataset(serialize_data=True, **kwargs)
    b = SPINNpzDataset(serialize_data=False, indices=[1, 3], **kwargs)
    assert len(b) == 2
    np.testing.assert_array_equal(a.get_data_info(3)['joints_3d'], b.get_data_info(1)['joints_3d'])
    assert b.get_data_info(1)['id'] == 3


def test_object_arrays_are_read_without_running_code(tmp_path, spin_npz_set):
    arrays = spin_npz_set['arrays']
    names = np.array(list(arrays['imgname'][:1]), dtype=object)  # Python strings
    path = tmp_path / 'object_names.npz'
    np.savez(path, imgname=names, center=arrays['center'][:1], scale=arrays['scale'][:1])
    with pytest.raises(InvalidAnnotationError, match='allow_pickle=True'):
        SPINNpzDataset(ann_file=str(path))
    info = SPINNpzDataset(ann_file=str(path), allow_pickle=True).get_data_info(0)
    assert info['img_path'].endswith(str(arrays['imgname'][0]))

    marker = tmp_path / 'executed'
    evil = tmp_path / 'evil.npz'
    np.savez(evil, imgname=np.array([RunsCode(marker)], dtype=object),
             center=arrays['center'][:1], scale=arrays['scale'][:1])
    with pytest.raises(DisallowedPickleError, match=r'evil\.npz \[imgname\].*system'):
        SPINNpzDataset(ann_file=str(evil), allow_pickle=True)
    assert not marker.exists()
