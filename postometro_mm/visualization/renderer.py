"""CPU triangle-mesh renderer (numpy only; no OpenGL, no display).

Conventions (OpenCV camera frame, the frame of the predicted meshes): ``x`` right, ``y`` down,
``z`` forward (depth, metres, positive in front of the camera). A point ``(X, Y, Z)`` projects
to the pixel ``u = fx * X / Z + cx``, ``v = fy * Y / Z + cy``; pixel ``(row i, column j)`` is
sampled at its centre ``(u, v) = (j, i)``. Colours are RGB.

The rasteriser visits, for every triangle, the pixel centres of its bounding box (all
triangles of a chunk at once, without padding), keeps those inside the triangle (barycentric
weights from per-face affine edge functions), and resolves visibility with a z-buffer on the
inverse depth ``1 / Z``, which is affine in screen space (exact perspective-correct depth and
barycentrics). Shading is Lambertian (ambient + diffuse, two-sided) with area-weighted vertex
normals interpolated across each face.
"""
from typing import NamedTuple, Optional, Tuple, Union

import numpy as np

from postometro_mm.utils.geometry import ArrayLike, project_points

#: Default light direction in the camera frame (pointing from the surface towards the light):
#: in front of the person, slightly from above and from the left of the image.
DEFAULT_LIGHT_DIR = (-0.3, -0.4, -1.0)
#: Fragments processed per chunk (bounds memory to a few hundred MB for any mesh).
_CHUNK_FRAGMENTS = 1 << 20


class MeshRender(NamedTuple):
    """Output of :func:`render_mesh`.

    Attributes:
        rgb (np.ndarray): ``(H, W, 3)`` uint8 shaded colours, 0 where no surface.
        depth (np.ndarray): ``(H, W)`` float32 camera-frame depth ``Z`` (metres), 0 where no
            surface.
        mask (np.ndarray): ``(H, W)`` bool, True where the mesh covers the pixel centre.
    """
    rgb: np.ndarray
    depth: np.ndarray
    mask: np.ndarray

    @property
    def rgba(self) -> np.ndarray:
        """``(H, W, 4)`` uint8: :attr:`rgb` with alpha 255 on the mesh, 0 elsewhere."""
        alpha = self.mask.astype(np.uint8)[..., None] * 255
        return np.concatenate([self.rgb, alpha], axis=-1)


class Rasterization(NamedTuple):
    """Output of :func:`rasterize`: per-pixel visible face and its barycentrics.

    Attributes:
        face_index (np.ndarray): ``(H, W)`` int64, index of the visible face, -1 if none.
        barycentric (np.ndarray): ``(H, W, 3)`` float64 perspective-correct barycentric
            coordinates of the pixel centre in that face (0 where no face).
        depth (np.ndarray): ``(H, W)`` float64 depth ``Z`` of the visible surface, 0 if none.
    """
    face_index: np.ndarray
    barycentric: np.ndarray
    depth: np.ndarray


def rasterize(vertices: np.ndarray,
              faces: np.ndarray,
              image_size: Tuple[int, int],
              focal_length: Union[float, ArrayLike],
              principal_point: Optional[ArrayLike] = None,
              near: float = 1e-3) -> Rasterization:
    """Z-buffered rasterisation of a triangle mesh under a pinhole camera.

    Args:
        vertices (np.ndarray): ``(V, 3)`` camera-frame vertices (metres).
        faces (np.ndarray): ``(F, 3)`` vertex indices.
        image_size (tuple): ``(H, W)`` in pixels.
        focal_length (float | sequence): ``f`` or ``(fx, fy)`` in pixels.
        principal_point (sequence, optional): ``(cx, cy)`` pixels; default the image centre
            ``(W / 2, H / 2)``.
        near (float): faces with a vertex closer than this depth are not drawn (no clipping).

    Returns:
        Rasterization: visible face, barycentrics and depth per pixel.
    """
    height, width = int(image_size[0]), int(image_size[1])
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ValueError(f'expected vertices of shape (V, 3), got {vertices.shape}')
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise ValueError(f'expected faces of shape (F, 3), got {faces.shape}')
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ValueError(f'faces index vertices outside [0, {len(vertices)})')
    if principal_point is None:
        principal_point = (width / 2.0, height / 2.0)

    num_pixels = height * width
    inv_depth_buf = np.zeros(num_pixels)  # 1 / Z of the nearest surface, 0 = nothing
    face_buf = np.full(num_pixels, -1, dtype=np.int64)

    z = vertices[:, 2]
    uv = np.zeros((len(vertices), 2))
    in_front = z > near
    uv[in_front] = project_points(vertices[in_front], focal_length, principal_point)

    tri_uv = uv[faces]  # (F, 3, 2)
    tri_z = z[faces]  # (F, 3)
    # Signed doubled area; the edge functions are divided by it, so both windings work.
    area = ((tri_uv[:, 1, 0] - tri_uv[:, 0, 0]) * (tri_uv[:, 2, 1] - tri_uv[:, 0, 1]) -
            (tri_uv[:, 2, 0] - tri_uv[:, 0, 0]) * (tri_uv[:, 1, 1] - tri_uv[:, 0, 1]))
    x_min = np.maximum(np.ceil(tri_uv[..., 0].min(axis=1)), 0).astype(np.int64)
    x_max = np.minimum(np.floor(tri_uv[..., 0].max(axis=1)), width - 1).astype(np.int64)
    y_min = np.maximum(np.ceil(tri_uv[..., 1].min(axis=1)), 0).astype(np.int64)
    y_max = np.minimum(np.floor(tri_uv[..., 1].max(axis=1)), height - 1).astype(np.int64)
    keep = (np.all(tri_z > near, axis=1) & (np.abs(area) > 1e-12) & (x_max >= x_min) &
            (y_max >= y_min))
    planes = _face_planes(tri_uv, np.where(keep[:, None], tri_z, 1.0),
                          np.where(keep, area, 1.0))
    face_ids = np.nonzero(keep)[0]
    box_w = (x_max - x_min + 1)[face_ids]
    box_n = box_w * (y_max - y_min + 1)[face_ids]

    # Split the faces into chunks of at most _CHUNK_FRAGMENTS candidate pixels (a single
    # face larger than that forms its own chunk).
    ends = np.cumsum(box_n)
    start = 0
    while start < len(face_ids):
        offset = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, offset + _CHUNK_FRAGMENTS, side='right')),
                   start + 1)
        chunk = face_ids[start:stop]
        _rasterize_chunk(chunk, box_w[start:stop], box_n[start:stop], x_min[chunk],
                         y_min[chunk], planes, width, inv_depth_buf, face_buf)
        start = stop

    # Perspective-correct barycentrics of the visible pixels: b_k = (w_k / Z_k) / (1 / Z).
    pixel = np.nonzero(face_buf >= 0)[0]
    fid = face_buf[pixel]
    w01 = _eval_planes(planes[fid, :2], pixel % width, pixel // width)  # (n, 2)
    w = np.concatenate([w01, 1.0 - w01.sum(axis=1, keepdims=True)], axis=1)
    inv_depth = inv_depth_buf[pixel]
    barycentric = np.zeros((num_pixels, 3))
    barycentric[pixel] = w / tri_z[fid] / inv_depth[:, None]
    depth = np.zeros(num_pixels)
    depth[pixel] = 1.0 / inv_depth
    return Rasterization(
        face_index=face_buf.reshape(height, width),
        barycentric=barycentric.reshape(height, width, 3),
        depth=depth.reshape(height, width))


def _face_planes(tri_uv: np.ndarray, tri_z: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Per-face affine functions ``a * u + b * v + c`` of the pixel position, ``(F, 3, 3)``.

    Rows: the screen-space barycentric weights ``w0`` and ``w1`` of vertices 0 and 1
    (``w2 = 1 - w0 - w1``) and the inverse depth ``q = sum_k w_k / Z_k``, which is affine in
    screen space for a planar triangle. Columns: ``(a, b, c)``.
    """
    x, y = tri_uv[..., 0], tri_uv[..., 1]
    planes = np.empty((len(tri_uv), 3, 3))
    # w0: doubled area of (p1, p2, p) over the face's; w1: of (p2, p0, p).
    for row, (i, j) in enumerate([(1, 2), (2, 0)]):
        planes[:, row, 0] = -(y[:, j] - y[:, i]) / area
        planes[:, row, 1] = (x[:, j] - x[:, i]) / area
        planes[:, row, 2] = ((y[:, j] - y[:, i]) * x[:, i] - (x[:, j] - x[:, i]) * y[:, i]) / area
    inv_z = 1.0 / tri_z
    planes[:, 2] = (planes[:, 0] * (inv_z[:, 0] - inv_z[:, 2])[:, None] +
                    planes[:, 1] * (inv_z[:, 1] - inv_z[:, 2])[:, None])
    planes[:, 2, 2] += inv_z[:, 2]
    return planes


def _eval_planes(planes: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Evaluate ``(n, k, 3)`` affine functions at ``n`` pixel positions -> ``(n, k)``."""
    return planes[..., 0] * u[:, None] + planes[..., 1] * v[:, None] + planes[..., 2]


def _rasterize_chunk(face_ids: np.ndarray, box_w: np.ndarray, box_n: np.ndarray,
                     x0: np.ndarray, y0: np.ndarray, planes: np.ndarray, width: int,
                     inv_depth_buf: np.ndarray, face_buf: np.ndarray) -> None:
    """Test the bounding-box pixel centres of a chunk of faces; update the z-buffer in place.

    The z-buffer keeps the largest inverse depth (nearest surface) per pixel.
    """
    total = int(box_n.sum())
    owner = np.repeat(np.arange(len(face_ids)), box_n)  # chunk-local face of each candidate
    local = np.arange(total) - np.repeat(np.cumsum(box_n) - box_n, box_n)
    width_of = box_w[owner]
    u = x0[owner] + local % width_of
    v = y0[owner] + local // width_of
    w01 = _eval_planes(np.repeat(planes[face_ids, :2], box_n, axis=0), u, v)  # (n, 2)
    eps = 1e-9
    inside = (w01[:, 0] >= -eps) & (w01[:, 1] >= -eps) & (w01.sum(axis=1) <= 1.0 + eps)
    u, v, fid = u[inside], v[inside], face_ids[owner[inside]]
    pixel = v * width + u
    inv_depth = _eval_planes(planes[fid, 2:], u, v)[:, 0]
    np.maximum.at(inv_depth_buf, pixel, inv_depth)
    nearest = inv_depth == inv_depth_buf[pixel]
    face_buf[pixel[nearest]] = fid[nearest]


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals ``(V, 3)`` (zero for unreferenced vertices)."""
    tri = vertices[faces]
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # length = 2 * area
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_n)
    norm = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.maximum(norm, 1e-12)


def render_mesh(vertices: np.ndarray,
                faces: np.ndarray,
                image_size: Tuple[int, int],
                focal_length: Union[float, ArrayLike],
                principal_point: Optional[ArrayLike] = None,
                color: ArrayLike = (166, 188, 235),
                vertex_colors: Optional[np.ndarray] = None,
                face_colors: Optional[np.ndarray] = None,
                light_dir: ArrayLike = DEFAULT_LIGHT_DIR,
                ambient: float = 0.35,
                diffuse: float = 0.65) -> MeshRender:
    """Render a shaded mesh with :func:`rasterize` and Lambert shading.

    The shade of a pixel is ``base_colour * (ambient + diffuse * |n . l|)`` clipped to
    [0, 255], with ``n`` the interpolated vertex normal and ``l`` the unit light direction
    (two-sided, so open meshes and either face winding look the same).

    Args:
        vertices (np.ndarray): ``(V, 3)`` camera-frame vertices (metres, ``Z > 0``).
        faces (np.ndarray): ``(F, 3)`` vertex indices.
        image_size (tuple): ``(H, W)`` in pixels.
        focal_length (float | sequence): ``f`` or ``(fx, fy)`` in pixels.
        principal_point (sequence, optional): ``(cx, cy)``; default the image centre.
        color (sequence): one RGB colour (0-255) for the whole mesh.
        vertex_colors (np.ndarray, optional): ``(V, 3)`` RGB 0-255, interpolated over faces;
            overrides ``color``.
        face_colors (np.ndarray, optional): ``(F, 3)`` RGB 0-255, flat per face; overrides
            ``color`` and ``vertex_colors``.
        light_dir (sequence): direction from the surface towards the light, camera frame.
        ambient (float): ambient term.
        diffuse (float): diffuse weight.

    Returns:
        MeshRender: colours, depth and coverage mask.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    raster = rasterize(vertices, faces, image_size, focal_length, principal_point)
    mask = raster.face_index >= 0
    fid = raster.face_index[mask]
    bary = raster.barycentric[mask]  # (n, 3)
    corners = faces[fid]  # (n, 3)

    normals = vertex_normals(vertices, faces)
    n = np.einsum('nk,nkc->nc', bary, normals[corners])
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    light = np.asarray(light_dir, dtype=np.float64)
    light = light / np.linalg.norm(light)
    shade = ambient + diffuse * np.abs(n @ light)

    if face_colors is not None:
        base = np.asarray(face_colors, dtype=np.float64)
        _check_colors(base, len(faces), 'face_colors')
        base = base[fid]
    elif vertex_colors is not None:
        vc = np.asarray(vertex_colors, dtype=np.float64)
        _check_colors(vc, len(vertices), 'vertex_colors')
        base = np.einsum('nk,nkc->nc', bary, vc[corners])
    else:
        base = np.broadcast_to(np.asarray(color, dtype=np.float64), (len(fid), 3))

    rgb = np.zeros(mask.shape + (3, ), dtype=np.uint8)
    rgb[mask] = np.clip(base * shade[:, None], 0, 255).round().astype(np.uint8)
    return MeshRender(rgb=rgb, depth=raster.depth.astype(np.float32), mask=mask)


def _check_colors(colors: np.ndarray, count: int, name: str) -> None:
    if colors.shape != (count, 3):
        raise ValueError(f'expected {name} of shape ({count}, 3), got {colors.shape}')


def overlay_render(image: np.ndarray, render: MeshRender, alpha: float = 0.8) -> np.ndarray:
    """Blend a render over an image where the mesh is: ``alpha * mesh + (1 - alpha) * image``.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8, same colour order as the render (RGB).
        render (MeshRender): a render of the same ``(H, W)``.
        alpha (float): opacity of the mesh in [0, 1].

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 blended copy of ``image``.
    """
    if image.shape[:2] != render.mask.shape:
        raise ValueError(f'image of size {image.shape[:2]} does not match the render size '
                         f'{render.mask.shape}')
    out = image.copy()
    m = render.mask
    blended = alpha * render.rgb[m].astype(np.float64) + (1 - alpha) * image[m]
    out[m] = np.clip(blended, 0, 255).round().astype(np.uint8)
    return out


def rotate_about_y(vertices: np.ndarray, angle_deg: float = 90.0,
                   center: Optional[ArrayLike] = None) -> np.ndarray:
    """Rotate ``(V, 3)`` vertices by ``angle_deg`` about the vertical (camera ``y``) axis
    through ``center`` (default: the vertex mean), e.g. for a side view of a mesh."""
    vertices = np.asarray(vertices, dtype=np.float64)
    center = vertices.mean(axis=0) if center is None else np.asarray(center, np.float64)
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0,
                                                                  np.cos(a)]])
    return (vertices - center) @ rot.T + center


def weak_perspective_to_translation(camera: ArrayLike,
                                    bbox_center: ArrayLike,
                                    bbox_size: float,
                                    focal_length: float,
                                    principal_point: ArrayLike) -> np.ndarray:
    """Full-image camera translation equivalent to a weak-perspective crop camera.

    The model predicts ``(s, tx, ty)`` for root-relative vertices ``X`` with the METRO /
    FastMETRO / PostoMETRO orthographic projection ``x_n = s * (X_xy + (tx, ty))`` in
    normalised crop coordinates (``[-1, 1]`` across a square crop of side ``b = bbox_size``
    pixels centred at ``(cx_b, cy_b) = bbox_center`` in the image). In image pixels that is
    ``u = cx_b + b / 2 * s * (X + tx)``. A pinhole camera with focal length ``f`` and principal
    point ``(cx, cy)`` maps ``X + T`` to ``u = f * (X + Tx) / (Z + Tz) + cx``; matching both at
    the root (``Z << Tz``) gives (as in SPIN/PARE's weak-to-perspective conversion, applied to
    the full frame like CLIFF)::

        Tz = 2 * f / (b * s)
        Tx = tx + 2 * (cx_b - cx) / (b * s)
        Ty = ty + 2 * (cy_b - cy) / (b * s)

    The focal length is an assumption (the model never sees it): a long one (e.g. SPIN's 5000
    px) keeps the render close to the weak-perspective model; ``sqrt(W^2 + H^2)`` (CLIFF's
    estimate for unknown intrinsics) gives a more natural perspective.

    Args:
        camera (sequence): ``(s, tx, ty)``.
        bbox_center (sequence): crop centre ``(cx_b, cy_b)`` in image pixels.
        bbox_size (float): side of the square crop in image pixels.
        focal_length (float): assumed focal length in pixels.
        principal_point (sequence): ``(cx, cy)`` in pixels (usually the image centre).

    Returns:
        np.ndarray: ``(3,)`` translation ``(Tx, Ty, Tz)`` in metres to add to the vertices.
    """
    s, tx, ty = (float(v) for v in np.asarray(camera, dtype=np.float64).reshape(3))
    if s <= 0:
        raise ValueError(f'weak-perspective scale must be positive, got s={s}')
    cxb, cyb = np.asarray(bbox_center, dtype=np.float64).reshape(2)
    cx, cy = np.asarray(principal_point, dtype=np.float64).reshape(2)
    bs = float(bbox_size) * s
    return np.array([tx + 2.0 * (cxb - cx) / bs, ty + 2.0 * (cyb - cy) / bs,
                     2.0 * float(focal_length) / bs])
