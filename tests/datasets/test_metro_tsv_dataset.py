"""METROTSVDataset and the TSV reader on METRO-layout TSV sets (.lineidx, linelist, yaml)."""
import base64

import cv2
import numpy as np
import pytest

from postometro_mm.datasets import METROTSVDataset, TSVFile
from postometro_mm.datasets.transforms import LoadMeshImage, MeshTopdownAffine, PackMeshInputs


def test_tsv_file_random_access(metro_tsv_set):
    folder = metro_tsv_set['sets']['set_a']
    tsv = TSVFile(folder['yaml'].replace('train.yaml', 'train.label.tsv'))
    assert len(tsv) == 4
    for row in (3, 0, 2):       # out of order: every read seeks
        key, label = tsv.read_row(row)
        assert key == folder['keys'][row] == tsv.read_key(row)
    with pytest.raises(IndexError, match='row 4 out of range'):
        tsv.read_row(4)


def test_dataset_follows_linelist_and_labels(metro_tsv_set):
    folder = metro_tsv_set['sets']['set_a']
    dataset = METROTSVDataset(ann_file=folder['yaml'])
    assert len(dataset) == 3 and dataset.metainfo['dataset_name'] == 'metro_tsv'
    for index, row in enumerate((0, 2, 3)):          # linelist skips row 1
        info = dataset.get_data_info(index)
        label = folder['labels'][row]
        assert info['img_path'] == folder['keys'][row]
        assert (info['seq_name'], info['frame_id']) == ('courtyard_box_00', row)
        np.testing.assert_allclose(info['bbox_center'][0], label['center'], rtol=1e-6)
        np.testing.assert_allclose(info['bbox_scale'][0, 0], 200 * label['scale'], rtol=1e-6)
        np.testing.assert_allclose(info['joints_2d'][0], np.array(label['2d_joints'])[:, :2],
                                   rtol=1e-6)
        np.testing.assert_allclose(info['joints_3d'][0], np.array(label['3d_joints'])[:, :3],
                                   rtol=1e-6)
        np.testing.assert_allclose(info['smpl_pose'][0], label['pose'], rtol=1e-6)
        assert info['gender'][0] == {'m': 1, 'f': 2, 'n': 0}[label['gender']]
        assert info['has_smpl'][0] == info['has_3d'][0] == info['has_2d'][0] == 1
        # image bytes are the row's base64 JPEG
        decoded = cv2.imdecode(np.frombuffer(info['img_bytes'], np.uint8), cv2.IMREAD_COLOR)
        assert decoded.shape == (240, 320, 3)


def test_composite_yaml_order_and_missing_gender(metro_tsv_set):
    dataset = METROTSVDataset(ann_file=metro_tsv_set['composite_yaml'])
    assert len(dataset) == 3
    for index, (name, row) in enumerate(metro_tsv_set['composite_rows']):
        info = dataset.get_data_info(index)
        source = metro_tsv_set['sets'][name]
        assert info['img_path'] == source['keys'][row]
        np.testing.assert_allclose(info['joints_3d'][0],
                                   np.array(source['labels'][row]['3d_joints'])[:, :3],
                                   rtol=1e-6)
        if name == 'set_b':                           # labels without "gender": neutral
            assert info['gender'][0] == 0
    only_b = METROTSVDataset(ann_file=metro_tsv_set['composite_yaml'],
                             seq_prefixes=['downtown_bus'])
    assert [only_b.get_data_info(i)['frame_id'] for i in range(len(only_b))] == [3, 1]


def test_images_decode_through_the_pipeline(metro_tsv_set):
    folder = metro_tsv_set['sets']['set_a']
    dataset = METROTSVDataset(
        ann_file=folder['yaml'], test_mode=True,
        pipeline=[dict(type='LoadMeshImage'), dict(type='MeshTopdownAffine'),
                  dict(type='PackMeshInputs')])
    item = dataset[1]
    assert item['inputs'].shape == (3, 256, 256)
    assert item['data_samples'].metainfo['img_path'] == folder['keys'][2]
    info = dataset.get_data_info(1)
    loaded = LoadMeshImage()(info)
    assert 'img_bytes' not in loaded and loaded['ori_shape'] == (240, 320)
    tsv = TSVFile(folder['yaml'].replace('train.yaml', 'train.img.tsv'))
    raw = base64.b64decode(tsv.read_row(2)[1])
    np.testing.assert_array_equal(
        loaded['img'], cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR))
    packed = PackMeshInputs()(MeshTopdownAffine()(loaded))
    assert packed['data_samples'].gt_instances.has_smpl.tolist() == [1.0]
