"""Drawing several people with one z-buffer, the side view and the decoded 2D pose, for the
demo and for MeshVisualizer."""
import numpy as np
import pytest
from mmengine.structures import InstanceData

from mmpose.structures import PoseDataSample
from postometro_mm.visualization import (PERSON_COLORS, MeshVisualizer, draw_meshes,
                                         draw_people, draw_pose_2d, draw_side_view,
                                         render_mesh)


def _square(size: float, depth: float, offset=(0.0, 0.0)):
    """A flat square (two triangles) facing the camera."""
    x0, y0 = offset
    vertices = np.array([[x0 - size, y0 - size, depth], [x0 + size, y0 - size, depth],
                         [x0 + size, y0 + size, depth], [x0 - size, y0 + size, depth]])
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    return vertices, faces


def _hue(pixel):
    """Colour direction (independent of shading)."""
    pixel = np.asarray(pixel, np.float64)
    return pixel / np.linalg.norm(pixel)


def test_nearer_person_occludes_regardless_of_order():
    image = np.zeros((60, 80, 3), np.uint8)
    near, faces = _square(0.2, 2.0)
    far, _ = _square(0.6, 4.0)
    colors = [(255, 0, 0), (0, 0, 255)]
    for order in ([near, far], [far, near]):
        cols = colors if order[0] is near else colors[::-1]
        out = draw_meshes(image, order, faces, focal_length=100.0, colors=cols, alpha=1.0)
        # centre: the near square (red); 12 px right of the centre: only the far one (blue)
        np.testing.assert_allclose(_hue(out[30, 40]), [1, 0, 0], atol=1e-6)
        np.testing.assert_allclose(_hue(out[30, 52]), [0, 0, 1], atol=1e-6)
        # the near square spans focal * 0.2 / 2 = 10 px on each side of the centre
        red = (out[..., 0] > 0) & (out[..., 2] == 0)
        assert red[30].sum() == 21


def _cube(half: float, center):
    """An axis-aligned cube (12 triangles)."""
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
    faces = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    return half * corners + np.asarray(center, float), faces


def test_side_view_sees_depth_as_horizontal_offset():
    a, faces = _cube(0.1, (0, 0, 3.0))
    b, _ = _cube(0.1, (0, 0, 5.0))
    colors = [(255, 0, 0), (0, 0, 255)]
    front = draw_meshes(np.zeros((60, 80, 3), np.uint8), [a, b], faces, 100.0, colors=colors,
                        alpha=1.0)
    side = draw_side_view((60, 80), [a, b], faces, 100.0, colors=colors)
    # from the front the nearer cube hides the farther one completely
    assert np.any(front[..., 0] > 0) and not np.any(front[..., 2] > 0)
    # turned 90 degrees both cubes appear on white, one on each side of the image centre
    red = np.nonzero(((side[..., 0] > 0) & (side[..., 1] == 0)).any(axis=0))[0]
    blue = np.nonzero(((side[..., 2] > 0) & (side[..., 1] == 0)).any(axis=0))[0]
    assert len(red) and len(blue)
    assert (red.mean() - 40) * (blue.mean() - 40) < 0
    assert side[0, 0].tolist() == [255, 255, 255]


def test_side_view_frames_a_scene_wider_than_the_view():
    near, faces = _cube(0.1, (0, 0, 2.0))
    far, _ = _cube(0.1, (0, 0, 40.0))
    side = draw_side_view((60, 80), [near, far], faces, 100.0)
    drawn = np.nonzero((side < 255).any(-1).any(0))[0]
    assert len(drawn) and drawn.min() > 0 and drawn.max() < 79  # both inside, nothing cut


def test_draw_people_panels_and_empty_frames():
    image = np.full((48, 64, 3), 80, np.uint8)
    vertices, faces = _square(0.3, 0.0)
    pred = InstanceData(vertices=np.stack([vertices, vertices]).astype(np.float32),
                        camera_translation=np.array([[0, 0, 3.0], [np.nan, np.nan, np.nan]],
                                                    np.float32),
                        decoded_keypoints=np.full((2, 17, 2), 20.0, np.float32))
    sample = PoseDataSample(pred_instances=pred, metainfo=dict(focal_length=50.0))
    out = draw_people(image, sample, faces, side_view=True, pose_2d=True)
    assert out.shape == (48, 192, 3)
    mesh_panel, side_panel, pose_panel = np.split(out, 3, axis=1)
    # person 0 in its colour at the centre; person 1 (no translation) is skipped
    np.testing.assert_allclose(_hue((mesh_panel[24, 32] - 0.2 * 80) / 0.8),
                               _hue(PERSON_COLORS[0]), atol=0.02)
    assert np.any(pose_panel != 80) and pose_panel[0, 0].tolist() == [80, 80, 80]
    empty = PoseDataSample(pred_instances=InstanceData())
    out = draw_people(image, empty, faces, side_view=True, pose_2d=True)
    np.testing.assert_array_equal(out[:, :64], image)
    np.testing.assert_array_equal(out[:, 128:], image)
    assert np.all(out[:, 64:128] == 255)


def test_pose_2d_draws_the_skeleton_at_the_keypoints():
    image = np.zeros((100, 100, 3), np.uint8)
    keypoints = np.zeros((1, 17, 2))
    keypoints[0, :, 0] = np.linspace(20, 80, 17)
    keypoints[0, :, 1] = 50
    out = draw_pose_2d(image, keypoints, radius=2, thickness=1)
    assert np.all(out[50, 20:81].max(axis=-1) > 0)  # joints and limbs on the row
    assert np.all(out[:40] == 0) and np.all(out[60:] == 0)
    # NaN people are skipped
    assert np.all(draw_pose_2d(image, np.full((1, 17, 2), np.nan)) == 0)


def test_single_colour_meshes_render_like_the_renderer():
    vertices, faces = _cube(0.2, (0.05, -0.1, 3.0))
    image = np.full((60, 80, 3), 30, np.uint8)
    out = draw_meshes(image, [vertices], faces, 100.0, colors=[(10, 200, 90)], alpha=1.0)
    render = render_mesh(vertices, faces, (60, 80), 100.0, color=(10, 200, 90))
    np.testing.assert_array_equal(out[render.mask], render.rgb[render.mask])
    np.testing.assert_array_equal(out[~render.mask], image[~render.mask])
    with pytest.raises(ValueError, match='1 colours for 2 meshes'):
        draw_meshes(image, [vertices, vertices], faces, 100.0, colors=[(1, 2, 3)])


def test_mesh_visualizer_draws_every_placed_person():
    """Predictions of the inference API (camera_translation + focal_length) are drawn like
    the demo draws them: all people, one z-buffer, the metainfo's camera."""
    near, faces = _square(0.2, 0.0)
    pred = InstanceData(vertices=np.stack([near, near]).astype(np.float32),
                        camera=np.ones((2, 3), np.float32),
                        camera_translation=np.array([[-0.3, 0, 3.0], [0.4, 0, 4.0]], np.float32))
    sample = PoseDataSample(pred_instances=pred,
                            metainfo=dict(focal_length=60.0,
                                          principal_point=np.array([32.0, 24.0])))
    image = np.full((48, 64, 3), 80, np.uint8)
    vis = MeshVisualizer(name='scene_vis', faces=faces, side_view=True)
    drawn = vis.add_datasample('img', image, sample, draw_gt=False)
    expected = draw_people(image, sample, faces, side_view=True, alpha=vis.mesh_alpha)
    np.testing.assert_array_equal(drawn, expected)
    # both people are there, left and right of the image centre, in their own colours
    mesh_panel = drawn[:, :64]
    for column, color in ((32 - 6, PERSON_COLORS[0]), (32 + 6, PERSON_COLORS[1])):
        np.testing.assert_allclose(_hue((mesh_panel[24, column] - 0.2 * 80) / 0.8),
                                   _hue(color), atol=0.02)
    del sample.focal_length
    with pytest.raises(KeyError, match='focal_length'):
        vis.add_datasample('img', image, sample, draw_gt=False)
