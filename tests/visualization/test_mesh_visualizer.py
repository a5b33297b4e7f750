import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmpose.registry import VISUALIZERS
from mmpose.structures import PoseDataSample, merge_data_samples
from postometro_mm.body_models import GenderedSMPL, load_joint_regressor
from postometro_mm.visualization import (MeshVisualizer, load_faces, render_mesh,
                                         weak_perspective_to_translation)

H, W = 240, 320
CENTER, CROP = np.array([170.0, 118.0]), 200.0


@pytest.fixture(scope='module')
def mesh(synthetic_body_model):
    model = GenderedSMPL(synthetic_body_model['model_dir'])
    with torch.no_grad():
        verts = model(torch.zeros(1, 72), torch.zeros(1, 10), torch.zeros(1, dtype=torch.long))
    verts = verts[0].numpy().astype(np.float64)
    regressor = load_joint_regressor(synthetic_body_model['j_regressor_h36m']).numpy()
    verts -= regressor[0] @ verts  # root-relative, like the predictions
    scale = 1.6 / np.ptp(verts[:, 1])  # the body spans 80 % of the crop height
    return dict(verts=verts, faces=model.faces, camera=np.array([scale, 0.02, -0.01]),
                model_dir=synthetic_body_model['model_dir'])


def _data_sample(mesh, keypoints=None):
    sample = PoseDataSample(
        metainfo=dict(input_center=CENTER, input_scale=np.array([CROP, CROP]),
                      input_size=(256, 256), ori_shape=(H, W), img_path='x.jpg'))
    pred = InstanceData(vertices=mesh['verts'][None].astype(np.float32),
                        camera=mesh['camera'][None])
    if keypoints is not None:
        pred.keypoints = keypoints[None]
        pred.keypoint_scores = np.ones((1, len(keypoints)))
    sample.pred_instances = pred
    gt = InstanceData(smpl_pose=np.zeros((1, 72)), smpl_betas=np.zeros((1, 10)),
                      gender=np.zeros(1, np.int64), has_smpl=np.ones(1),
                      keypoints=np.array([[[128.0, 128.0]]]), keypoints_visible=np.ones((1, 1)))
    sample.gt_instances = gt
    return sample


def _expected_mask(mesh, focal=5000.0):
    transl = weak_perspective_to_translation(mesh['camera'], CENTER, CROP, focal,
                                             (W / 2, H / 2))
    return render_mesh(mesh['verts'] + transl, mesh['faces'], (H, W), focal).mask


def test_draws_mesh_where_it_projects(mesh, tmp_path):
    vis = VISUALIZERS.build(dict(type='MeshVisualizer', name='mesh_vis_1',
                                 faces=mesh['model_dir']))
    image = np.zeros((H, W, 3), np.uint8)
    out_file = str(tmp_path / 'vis.jpg')
    # exactly how mmpose's PoseVisualizationHook calls it at test time
    drawn = vis.add_datasample('test_img', image, data_sample=merge_data_samples(
        [_data_sample(mesh)]), draw_gt=False, draw_bbox=True, draw_heatmap=True, show=False,
        wait_time=0, kpt_thr=0.3, out_file=out_file, step=1)
    assert drawn.shape == (H, W, 3)
    assert cv2.imread(out_file).shape == (H, W, 3)
    changed = drawn.any(axis=2)
    np.testing.assert_array_equal(changed, _expected_mask(mesh))
    # independent check of the placement: the weak-perspective projection of the vertices
    s, tx, ty = mesh['camera']
    uv = CENTER + CROP / 2 * s * (mesh['verts'][:, :2] + [tx, ty])
    rows, cols = np.nonzero(changed)
    assert abs(cols.min() - uv[:, 0].min()) < 3 and abs(cols.max() - uv[:, 0].max()) < 3
    assert abs(rows.min() - uv[:, 1].min()) < 3 and abs(rows.max() - uv[:, 1].max()) < 3


def test_keypoints_gt_panel_and_side_view(mesh):
    faces_file = mesh['model_dir'] + '/faces.npy'
    np.save(faces_file, mesh['faces'])
    vis = MeshVisualizer(name='mesh_vis_2', faces=faces_file, side_view=True, radius=2,
                         body_model=dict(type='GenderedSMPL', model_path=mesh['model_dir']))
    image = np.full((H, W, 3), 40, np.uint8)
    kpt = np.array([[20.0, 20.0]])  # away from the mesh
    drawn = vis.add_datasample('img', image, _data_sample(mesh, kpt), draw_gt=True)
    assert drawn.shape == (H, 3 * W, 3)  # GT | prediction | side view
    gt_panel, pred_panel, side = drawn[:, :W], drawn[:, W:2 * W], drawn[:, 2 * W:]
    mask = _expected_mask(mesh)
    assert np.all(pred_panel[mask] != 40)
    assert np.any(pred_panel[20, 20] != 40)  # the keypoint
    # the GT mesh (same parameters) lands on the prediction's pixels
    gt_changed = (gt_panel != 40).any(axis=2)
    assert (gt_changed & mask).sum() / (gt_changed | mask).sum() > 0.9
    # the GT keypoint is mapped from crop px (128, 128) = the crop centre back to the image
    cx, cy = CENTER.astype(int)
    assert np.any(gt_panel[cy, cx] != 40) and np.all(gt_panel[20, 20] == 40)
    # the side view is a white panel with a mesh in it, narrower than the frontal view
    side_mask = (side != 255).any(axis=2)
    assert side_mask.sum() > 100
    assert np.ptp(np.nonzero(side_mask)[0]) == pytest.approx(np.ptp(np.nonzero(mask)[0]), abs=3)


def test_load_faces_sources_and_errors(mesh, tmp_path):
    np.testing.assert_array_equal(load_faces(mesh['model_dir']), mesh['faces'])
    np.testing.assert_array_equal(load_faces(mesh['faces'].astype(np.int32)), mesh['faces'])
    with pytest.raises(FileNotFoundError, match='missing.npy'):
        load_faces(str(tmp_path / 'missing.npy'))
    with pytest.raises(ValueError, match=r'\(F, 3\)'):
        load_faces(np.zeros((4, 2), np.int64))
    vis = MeshVisualizer(name='mesh_vis_3', faces=mesh['faces'])
    sample = _data_sample(mesh)
    del sample.input_scale
    with pytest.raises(KeyError, match='input_scale'):
        vis.add_datasample('img', np.zeros((H, W, 3), np.uint8), sample, draw_gt=False)
