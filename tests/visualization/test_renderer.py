import numpy as np
import pytest

from postometro_mm.visualization.renderer import (overlay_render, project_points, rasterize,
                                                  render_mesh, rotate_about_y,
                                                  weak_perspective_to_translation)

H, W = 96, 128


def _pixel_centres():
    v, u = np.mgrid[0:H, 0:W].astype(float)
    return u, v


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


def _quad(corners_xy, z):
    verts = np.concatenate([np.asarray(corners_xy, float), np.full((4, 1), z)], axis=1)
    return verts, np.array([[0, 1, 2], [0, 2, 3]])


def test_rotated_square_silhouette_matches_analytic_mask():
    focal, z, pp = 100.0, 2.0, (60.3, 50.7)
    angle = np.deg2rad(30)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]]) @ rot.T
    corners = corners + [0.1, -0.05]
    verts, faces = _quad(corners, z)
    render = render_mesh(verts, faces, (H, W), focal, principal_point=pp)

    # analytic: a pixel centre is inside the projected (convex) square iff it is on the inner
    # side of all four edges
    px = project_points(verts, focal, pp)
    u, v = _pixel_centres()
    inside = np.ones((H, W), bool)
    for k in range(4):
        a, b = px[k], px[(k + 1) % 4]
        cross = (b[0] - a[0]) * (v - a[1]) - (b[1] - a[1]) * (u - a[0])
        inside &= cross >= 0
    assert inside.sum() > 1000
    assert _iou(render.mask, inside) > 0.99
    np.testing.assert_allclose(render.depth[render.mask], z)
    assert np.all(render.depth[~render.mask] == 0)
    assert np.all(render.rgb[~render.mask] == 0)


def test_cube_silhouette_and_front_face_depth():
    # unit cube centred on the optical axis at depth 3: its silhouette is the projection of
    # the front face (0.5 m wide at z = 2.5) since the back face projects inside it
    focal = 80.0
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (2.5, 3.5)])
    faces = np.array([[0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3], [0, 4, 5], [0, 5, 1],
                      [2, 3, 7], [2, 7, 6], [0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5]])
    render = render_mesh(corners, faces, (H, W), focal)
    u, v = _pixel_centres()
    half = focal * 0.5 / 2.5
    analytic = (np.abs(u - W / 2) <= half) & (np.abs(v - H / 2) <= half)
    assert _iou(render.mask, analytic) > 0.99
    # the visible surface is the front face everywhere (interior pixels)
    interior = (np.abs(u - W / 2) < half - 1) & (np.abs(v - H / 2) < half - 1)
    np.testing.assert_allclose(render.depth[interior], 2.5, rtol=1e-9)


@pytest.mark.parametrize('near_first', [True, False])
def test_depth_order_of_overlapping_triangles(near_first):
    near = np.array([[-0.6, -0.6, 2.0], [0.6, -0.6, 2.0], [0.0, 0.6, 2.0]])
    far = np.array([[-0.3, -0.8, 4.0], [0.9, -0.8, 4.0], [0.3, 0.9, 4.0]])
    verts = np.concatenate([near, far] if near_first else [far, near])
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    colors = np.array([[255, 0, 0], [0, 0, 255]]) if near_first else np.array([[0, 0, 255],
                                                                                 [255, 0, 0]])
    near_face = 0 if near_first else 1
    raster = rasterize(verts, faces, (H, W), 60.0)
    render = render_mesh(verts, faces, (H, W), 60.0, face_colors=colors, light_dir=(0, 0, -1),
                         ambient=1.0, diffuse=0.0)
    # pixel at the image centre is covered by both triangles: the near one must win
    assert raster.face_index[H // 2, W // 2] == near_face
    assert render.depth[H // 2, W // 2] == pytest.approx(2.0)
    assert tuple(render.rgb[H // 2, W // 2]) == (255, 0, 0)
    # where only the far triangle is, it is visible (at its depth)
    only_far = (raster.face_index == 1 - near_face)
    assert only_far.sum() > 10
    np.testing.assert_allclose(render.depth[only_far], 4.0)


def test_perspective_correct_depth_on_tilted_plane():
    # plane z = 2 + 0.5 x; a pixel ray (u, v) hits it at z = 2 / (1 - 0.5 (u - cx) / f)
    focal = 90.0
    xy = np.array([[-0.6, -0.5], [0.6, -0.5], [0.6, 0.5], [-0.6, 0.5]])
    verts = np.concatenate([xy, (2 + 0.5 * xy[:, :1])], axis=1)
    raster = rasterize(verts, np.array([[0, 1, 2], [0, 2, 3]]), (H, W), focal)
    u, _ = _pixel_centres()
    expected = 2.0 / (1 - 0.5 * (u - W / 2) / focal)
    m = raster.face_index >= 0
    assert m.sum() > 1000
    np.testing.assert_allclose(raster.depth[m], expected[m], rtol=1e-9)


def test_lambert_shading_and_vertex_colour_interpolation():
    verts, faces = _quad([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]], 2.0)
    # normal (0, 0, +-1) parallel to the light -> full diffuse term
    render = render_mesh(verts, faces, (H, W), 100.0, color=(200, 100, 50),
                         light_dir=(0, 0, -1), ambient=0.2, diffuse=0.6)
    np.testing.assert_array_equal(render.rgb[render.mask], [[160, 80, 40]] * render.mask.sum())
    # light at 60 degrees from the normal -> diffuse * cos 60
    render = render_mesh(verts, faces, (H, W), 100.0, color=(200, 100, 50),
                         light_dir=(0, np.sin(np.pi / 3), -np.cos(np.pi / 3)), ambient=0.2,
                         diffuse=0.6)
    np.testing.assert_array_equal(render.rgb[H // 2, W // 2], [100, 50, 25])
    # vertex colours: red on the left edge, blue on the right edge -> linear in u
    vc = np.array([[255, 0, 0], [0, 0, 255], [0, 0, 255], [255, 0, 0]])
    render = render_mesh(verts, faces, (H, W), 100.0, vertex_colors=vc, light_dir=(0, 0, -1),
                         ambient=1.0, diffuse=0.0)
    u, _ = _pixel_centres()
    t = (u - (W / 2 - 25)) / 50  # 0 at the left edge, 1 at the right edge
    m = render.mask
    np.testing.assert_allclose(render.rgb[m][:, 0], 255 * (1 - t[m]), atol=0.51)
    np.testing.assert_allclose(render.rgb[m][:, 2], 255 * t[m], atol=0.51)
    assert render.rgba.shape == (H, W, 4)
    np.testing.assert_array_equal(render.rgba[..., 3] > 0, m)


def test_overlay_blends_only_under_the_mesh():
    verts, faces = _quad([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]], 2.0)
    render = render_mesh(verts, faces, (H, W), 100.0, color=(200, 100, 50),
                         light_dir=(0, 0, -1), ambient=1.0, diffuse=0.0)
    image = np.full((H, W, 3), 100, np.uint8)
    out = overlay_render(image, render, alpha=0.25)
    np.testing.assert_array_equal(out[~render.mask], 100)
    np.testing.assert_array_equal(out[render.mask], [[125, 100, 88]] * render.mask.sum())
    with pytest.raises(ValueError, match='does not match'):
        overlay_render(image[:10], render)


def test_weak_perspective_to_translation_reproduces_the_crop_projection():
    rng = np.random.default_rng(0)
    camera = np.array([0.8, 0.05, -0.1])
    bbox_center, bbox_size = np.array([700.0, 420.0]), 300.0
    image_w, image_h = 1280, 720
    pp = (image_w / 2, image_h / 2)
    points = rng.uniform(-0.3, 0.3, size=(20, 3))
    points[0] = 0.0  # the root
    # weak perspective in image pixels: u = c_b + b / 2 * s * (X + t)
    weak = bbox_center + bbox_size / 2 * camera[0] * (points[:, :2] + camera[1:])
    for focal, tol in [(5000.0, 2.0), (1e7, 1e-2)]:
        transl = weak_perspective_to_translation(camera, bbox_center, bbox_size, focal, pp)
        persp = project_points(points + transl, focal, pp)
        np.testing.assert_allclose(persp[0], weak[0], atol=1e-9)  # exact at the root
        np.testing.assert_allclose(persp, weak, atol=tol)  # -> weak perspective as f grows
    with pytest.raises(ValueError, match='positive'):
        weak_perspective_to_translation([0.0, 0, 0], bbox_center, bbox_size, 5000.0, pp)


def test_rotate_about_y_side_view():
    verts = np.array([[1.0, 0.0, 5.0], [-1.0, 2.0, 5.0], [0.0, -2.0, 5.0]])
    center = verts.mean(0)
    out = rotate_about_y(verts, 90.0)
    np.testing.assert_allclose(out.mean(0), center, atol=1e-12)
    # x offset becomes -z offset, y is unchanged: (dx, dy, dz) -> (dz, dy, -dx)
    d = verts - center
    np.testing.assert_allclose(out - center, np.stack([d[:, 2], d[:, 1], -d[:, 0]], 1),
                               atol=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r'\(V, 3\)'):
        rasterize(np.zeros((3, 2)), np.array([[0, 1, 2]]), (H, W), 50.0)
    with pytest.raises(ValueError, match='outside'):
        rasterize(np.ones((3, 3)), np.array([[0, 1, 3]]), (H, W), 50.0)
    with pytest.raises(ValueError, match='vertex_colors'):
        render_mesh(np.ones((3, 3)), np.array([[0, 1, 2]]), (H, W), 50.0,
                    vertex_colors=np.ones((2, 3)))
