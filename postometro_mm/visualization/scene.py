"""Draw the people of one image: meshes in the full-image camera (one z-buffer for everybody,
so people occlude each other correctly), a side view, and the 2D pose decoded from the pose
tokens. Images are RGB uint8, as in mmpose's visualizers. Used by the demo
(:class:`postometro_mm.apis.MeshInferencer`) and by :class:`MeshVisualizer`."""
import os.path as osp
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmpose.structures import PoseDataSample
from .renderer import overlay_render, render_mesh, rotate_about_y

#: RGB colours given to the people of an image in turn.
PERSON_COLORS = ((166, 188, 235), (235, 180, 150), (160, 220, 160), (230, 210, 130),
                 (200, 160, 230), (140, 210, 220))


def people_in_camera(data_sample: PoseDataSample) -> Tuple[List[np.ndarray], List[int]]:
    """Meshes of a (merged) data sample moved into the full-image camera.

    Args:
        data_sample (PoseDataSample): ``pred_instances.vertices`` (N, V, 3) root-relative and
            ``pred_instances.camera_translation`` (N, 3), as
            :func:`postometro_mm.apis.inference_mesh` gives them.

    Returns:
        tuple: the placed vertices (V, 3) float64 of every person whose translation is finite,
        and their indices in the data sample.
    """
    pred = data_sample.pred_instances
    if len(pred) == 0:
        return [], []
    vertices = np.asarray(pred.vertices, dtype=np.float64)
    transl = np.asarray(pred.camera_translation, dtype=np.float64).reshape(-1, 3)
    keep = [i for i in range(len(vertices)) if np.all(np.isfinite(transl[i]))]
    return [vertices[i] + transl[i] for i in keep], keep


def _merge_meshes(meshes: Sequence[np.ndarray], faces: np.ndarray,
                  colors: Sequence[Sequence[int]]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One vertex array, one face array (offset per person) and per-face colours (flat per
    person: the same shades as rendering each mesh with its single colour)."""
    offsets = np.cumsum([0] + [len(m) for m in meshes[:-1]])
    vertices = np.concatenate(meshes)
    all_faces = np.concatenate([faces + off for off in offsets])
    face_colors = np.concatenate(
        [np.broadcast_to(np.asarray(c, np.float64), (len(faces), 3)) for c in colors])
    return vertices, all_faces, face_colors


def person_colors(indices: Sequence[int]) -> List[Tuple[int, int, int]]:
    """Colour of each person index (cycling through :data:`PERSON_COLORS`)."""
    return [PERSON_COLORS[i % len(PERSON_COLORS)] for i in indices]


def draw_meshes(image: np.ndarray, meshes: Sequence[np.ndarray], faces: np.ndarray,
                focal_length: float, principal_point: Optional[Sequence[float]] = None,
                colors: Optional[Sequence[Sequence[int]]] = None,
                alpha: float = 0.8) -> np.ndarray:
    """Render camera-frame meshes together and blend them over an image.

    Args:
        image (np.ndarray): (H, W, 3) RGB uint8.
        meshes (list[np.ndarray]): (V, 3) camera-frame vertices, metres, per person.
        faces (np.ndarray): (F, 3) faces shared by all meshes.
        focal_length (float): px.
        principal_point (sequence, optional): (cx, cy) px; default the image centre.
        colors (list, optional): RGB per person; default :func:`person_colors`.
        alpha (float): mesh opacity.

    Returns:
        np.ndarray: (H, W, 3) RGB uint8 copy of ``image`` with the meshes.
    """
    if not meshes:
        return image.copy()
    colors = person_colors(range(len(meshes))) if colors is None else colors
    if len(colors) != len(meshes):
        raise ValueError(f'draw_meshes: {len(colors)} colours for {len(meshes)} meshes')
    vertices, all_faces, face_colors = _merge_meshes(meshes, faces, colors)
    render = render_mesh(vertices, all_faces, image.shape[:2], focal_length, principal_point,
                         face_colors=face_colors)
    return overlay_render(image, render, alpha)


def draw_side_view(image_shape: Tuple[int, int], meshes: Sequence[np.ndarray],
                   faces: np.ndarray, focal_length: float,
                   colors: Optional[Sequence[Sequence[int]]] = None,
                   angle: float = 90.0, margin: float = 0.9) -> np.ndarray:
    """The meshes turned by ``angle`` degrees about the vertical axis through their common
    centre (vertex mean) and framed: the centre is put on the optical axis at its original
    depth, moved back if needed so that every vertex projects within ``margin`` of the
    half-width / half-height. Rendered on white at the image size: RGB uint8 (H, W, 3)."""
    height, width = image_shape[:2]
    panel = np.full((height, width, 3), 255, dtype=np.uint8)
    if not meshes:
        return panel
    center = np.concatenate(meshes).mean(axis=0)
    turned = [rotate_about_y(m, angle, center) - center for m in meshes]
    points = np.concatenate(turned)
    needed = np.maximum(focal_length * np.abs(points[:, 0]) / (margin * width / 2),
                        focal_length * np.abs(points[:, 1]) / (margin * height / 2)) - points[:, 2]
    depth = max(float(center[2]), float(needed.max()))
    placed = [m + np.array([0.0, 0.0, depth]) for m in turned]
    return draw_meshes(panel, placed, faces, focal_length, None, colors, alpha=1.0)


@lru_cache(maxsize=1)
def coco_skeleton() -> Tuple[List[Tuple[int, int]], np.ndarray, np.ndarray]:
    """COCO-17 skeleton links and their RGB colours and the keypoint colours, from mmpose's
    COCO dataset metainfo."""
    import mmpose
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    coco = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_', 'datasets',
                    'coco.py')
    meta = parse_pose_metainfo(dict(from_file=coco))
    return ([tuple(link) for link in meta['skeleton_links']],
            np.asarray(meta['skeleton_link_colors']), np.asarray(meta['keypoint_colors']))


def draw_pose_2d(image: np.ndarray, keypoints: np.ndarray, radius: Optional[int] = None,
                 thickness: Optional[int] = None) -> np.ndarray:
    """Draw COCO-17 skeletons (e.g. the pose decoded from the pose tokens, paper Fig. 3 b).

    Args:
        image (np.ndarray): (H, W, 3) RGB uint8.
        keypoints (np.ndarray): (N, 17, 2) image px.
        radius (int, optional): joint radius; default scales with the image (>= 2 px).
        thickness (int, optional): limb width; default scales with the image (>= 1 px).

    Returns:
        np.ndarray: an RGB uint8 copy of ``image`` with the skeletons.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64).reshape(-1, 17, 2)
    links, link_colors, kpt_colors = coco_skeleton()
    size = max(image.shape[:2])
    radius = radius or max(2, size // 150)
    thickness = thickness or max(1, size // 300)
    out = np.ascontiguousarray(image.copy())
    for person in keypoints:
        if not np.all(np.isfinite(person)):
            continue
        pts = np.round(person).astype(np.int32)
        for (a, b), color in zip(links, link_colors):
            cv2.line(out, tuple(map(int, pts[a])), tuple(map(int, pts[b])),
                     tuple(int(c) for c in color), thickness, cv2.LINE_AA)
        for pt, color in zip(pts, kpt_colors):
            cv2.circle(out, tuple(map(int, pt)), radius, tuple(int(c) for c in color), -1,
                       cv2.LINE_AA)
    return out


def draw_people(image: np.ndarray, data_sample: PoseDataSample, faces: np.ndarray,
                side_view: bool = False, pose_2d: bool = False,
                alpha: float = 0.8) -> np.ndarray:
    """Panels of one image side by side: meshes over the image, then (optionally) the side
    view and the decoded 2D pose over the image.

    Args:
        image (np.ndarray): (H, W, 3) RGB uint8 original image.
        data_sample (PoseDataSample): merged predictions of the image (see
            :func:`people_in_camera`); ``metainfo`` ``focal_length`` and ``principal_point``
            are used when present (else the image diagonal and centre). An empty sample gives
            the unchanged image in every panel.
        faces (np.ndarray): (F, 3) mesh faces.
        side_view (bool): add the side-view panel.
        pose_2d (bool): add the decoded-2D-pose panel (needs
            ``pred_instances.decoded_keypoints``).
        alpha (float): mesh opacity.

    Returns:
        np.ndarray: (H, W × panels, 3) RGB uint8.
    """
    height, width = image.shape[:2]
    meta = data_sample.metainfo
    focal = float(meta.get('focal_length') or np.hypot(width, height))
    principal = meta.get('principal_point')
    meshes, indices = people_in_camera(data_sample)
    colors = person_colors(indices)
    panels = [draw_meshes(image, meshes, faces, focal, principal, colors, alpha)]
    if side_view:
        panels.append(draw_side_view(image.shape, meshes, faces, focal, colors))
    if pose_2d:
        pred = data_sample.get('pred_instances')
        if pred is not None and len(pred) and 'decoded_keypoints' not in pred:
            raise KeyError('draw_people(pose_2d=True): pred_instances has no '
                           '"decoded_keypoints" (the model has no pose tokenizer)')
        keypoints = (np.zeros((0, 17, 2)) if pred is None or len(pred) == 0 else
                     pred.decoded_keypoints)
        panels.append(draw_pose_2d(image, keypoints))
    return np.concatenate(panels, axis=1)
