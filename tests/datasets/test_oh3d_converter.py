"""3DOH50K converter on a released-layout annots.json, and OH3DDataset over its output."""
import os.path as osp

import numpy as np
import pytest
from mesh_data_builders import LSP14_NAMES, rotvec_matrix

from postometro_mm.body_models import J24_NAMES
from postometro_mm.datasets import OH3DDataset
from postometro_mm.datasets.converters import convert_oh3d


@pytest.fixture(scope='module')
def converted(oh3d_root, synthetic_body_model, tmp_path_factory):
    out_dir = str(tmp_path_factory.mktemp('oh3d_converted'))
    counts = convert_oh3d(oh3d_root['root'], out_dir, splits=('test', ),
                          body_model_dir=synthetic_body_model['model_dir'],
                          j_regressor_extra=synthetic_body_model['j_regressor_extra'],
                          progress=False)
    return dict(out_dir=out_dir, counts=counts,
                data=dict(np.load(osp.join(out_dir, 'oh3d_test.npz'))))


def test_records_match_annotations(converted, oh3d_root, people):
    data, expected = converted['data'], oh3d_root['expected']
    assert converted['counts'] == {'test': 4}
    for i in range(4):
        assert data['imgname'][i] == f'testset/images/{i:05d}.jpg'
        assert data['frame_id'][i] == i and data['seq_name'][i] == ''
        np.testing.assert_allclose(rotvec_matrix(data['pose'][i, :3]), expected['pose_cam'][i],
                                   atol=1e-6)
        lo, hi = expected['bbox'][i]
        np.testing.assert_allclose(data['center'][i], (lo + hi) / 2)
        np.testing.assert_allclose(data['scale'][i] * 200, 1.2 * (hi - lo).max())
        lsp_slots = [J24_NAMES.index(n) for n in LSP14_NAMES]
        np.testing.assert_allclose(data['part'][i, lsp_slots, :2], expected['lsp'][i])
        assert (data['part'][i, lsp_slots, 2] == 1).all()
        assert (np.delete(data['part'][i], lsp_slots, axis=0)[:, 2] == 0).all()
        np.testing.assert_allclose(data['cam_intrinsics'][i], oh3d_root['K'])
    # J24 3D: joints of the neutral mesh of the camera-frame pose (independently computed)
    joints = people.j24(data['pose'], oh3d_root['betas'])
    np.testing.assert_allclose(data['S'][..., :3], joints, atol=1e-5)


def test_oh3d_dataset_and_image(converted, oh3d_root):
    dataset = OH3DDataset(ann_file=osp.join(converted['out_dir'], 'oh3d_test.npz'),
                          data_prefix=dict(img=oh3d_root['root']),
                          pipeline=[dict(type='LoadMeshImage'), dict(type='MeshTopdownAffine'),
                                    dict(type='PackMeshInputs')], test_mode=True)
    assert len(dataset) == 4 and dataset.metainfo['dataset_name'] == '3doh'
    info = dataset.get_data_info(2)
    assert info['gender'][0] == 0 and info['has_3d'][0] == 1
    # COCO-17 from J24: the LSP joints the two sets share are visible, the face is not
    assert info['keypoints_visible'][0].tolist() == [0] * 5 + [1] * 12
    item = dataset[2]
    assert item['data_samples'].metainfo['ori_shape'] == (1024, 1024)


def test_command_line_tool(oh3d_root, tmp_path, run_script):
    script = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'dataset_converters',
                      'oh3d_converter.py')
    status, _, out = run_script(script, oh3d_root['root'], tmp_path, '--splits', 'test',
                                '--skip-invalid')
    assert status == 0 and out.splitlines() == ['test: 4']
    assert len(np.load(tmp_path / 'oh3d_test.npz')['imgname']) == 4
    status, message, _ = run_script(script, tmp_path / 'nowhere', tmp_path, '--splits', 'test',
                                    '--force')
    assert status == 1 and message.startswith('error: 3DOH50K test annotation file')
