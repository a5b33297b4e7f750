"""One synthetic image: a posed SMPL-format body placed before a pinhole camera, rendered
with per-part colours over a random background, covered by random occluders, with J24 / COCO-17
keypoints whose visibility is 0 wherever the joint is hidden.

Visibility of a joint (all three must hold):

1. its projection rounds to a pixel inside the image;
2. it is not hidden by the body itself. The renderer's z-buffer gives the surface seen at
   that pixel; the joint counts as visible when no surface is there, or the surface lies at
   most ``margin`` metres in front of the joint, with ``margin`` =
   :data:`SURFACE_LANDMARK_MARGIN` for joints on the skin (nose, eyes, ears, top of head),
   :data:`OWN_PART_MARGIN` when the surface belongs to one of the joint's own body parts
   (:data:`J24_OWN_PARTS`: e.g. the thigh or the torso for a hip, seen at its natural depth
   from any side) and :data:`OTHER_SURFACE_MARGIN` otherwise (about the thickness of a
   limb, so another limb crossing in front of the joint hides it);
3. its pixel is not covered by an occluder.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

from postometro_mm.body_models.joint_sets import J24_NAMES, J24_TO_COCO17, SMPL24_NAMES
from postometro_mm.visualization.renderer import project_points, rasterize, render_mesh
from .backgrounds import random_background
from .occluders import OcclusionLevel, draw_occluders

#: Body parts for colouring and visibility: part -> the SMPL joints whose bones it covers
#: (a vertex belongs to the part of its dominant skinning joint).
PART_JOINTS: Dict[str, Tuple[str, ...]] = {
    'torso': ('pelvis', 'spine1', 'spine2', 'spine3', 'left_collar', 'right_collar'),
    'head': ('neck', 'head'),
    'left_upper_arm': ('left_shoulder', ), 'left_forearm': ('left_elbow', ),
    'left_hand': ('left_wrist', 'left_hand'),
    'right_upper_arm': ('right_shoulder', ), 'right_forearm': ('right_elbow', ),
    'right_hand': ('right_wrist', 'right_hand'),
    'left_thigh': ('left_hip', ), 'left_shin': ('left_knee', ),
    'left_foot': ('left_ankle', 'left_foot'),
    'right_thigh': ('right_hip', ), 'right_shin': ('right_knee', ),
    'right_foot': ('right_ankle', 'right_foot'),
}
PART_NAMES: Tuple[str, ...] = tuple(PART_JOINTS)

#: Base RGB colour of every part (left limbs warm, right limbs cool), jittered per person.
PART_COLOURS: Dict[str, Tuple[int, int, int]] = {
    'torso': (150, 150, 165), 'head': (225, 190, 160),
    'left_upper_arm': (220, 60, 50), 'left_forearm': (235, 140, 40),
    'left_hand': (240, 210, 60),
    'right_upper_arm': (50, 90, 220), 'right_forearm': (40, 170, 210),
    'right_hand': (70, 200, 120),
    'left_thigh': (170, 40, 110), 'left_shin': (210, 90, 170), 'left_foot': (120, 60, 40),
    'right_thigh': (40, 120, 90), 'right_shin': (110, 190, 60), 'right_foot': (60, 60, 120),
}

#: Parts a J24 joint belongs to (empty: a landmark on the skin, judged by depth alone).
J24_OWN_PARTS: Dict[str, Tuple[str, ...]] = {
    'R_Ankle': ('right_shin', 'right_foot'), 'R_Knee': ('right_thigh', 'right_shin'),
    'R_Hip': ('right_thigh', 'torso'), 'L_Hip': ('left_thigh', 'torso'),
    'L_Knee': ('left_thigh', 'left_shin'), 'L_Ankle': ('left_shin', 'left_foot'),
    'R_Wrist': ('right_forearm', 'right_hand'), 'R_Elbow': ('right_upper_arm', 'right_forearm'),
    'R_Shoulder': ('right_upper_arm', 'torso'), 'L_Shoulder': ('left_upper_arm', 'torso'),
    'L_Elbow': ('left_upper_arm', 'left_forearm'), 'L_Wrist': ('left_forearm', 'left_hand'),
    'Neck': ('torso', 'head'), 'Top_of_Head': (), 'Pelvis': ('torso', 'left_thigh', 'right_thigh'),
    'Thorax': ('torso', 'head'), 'Spine': ('torso', ), 'Jaw': ('head', ), 'Head': ('head', ),
    'Nose': (), 'L_Eye': (), 'R_Eye': (), 'L_Ear': (), 'R_Ear': (),
}

SURFACE_LANDMARK_MARGIN = 0.04
OWN_PART_MARGIN = 0.18
OTHER_SURFACE_MARGIN = 0.10

#: Visibility codes (per joint) returned by :func:`joint_visibility`.
VISIBLE, OUTSIDE_IMAGE, SELF_OCCLUDED, OCCLUDER = 0, 1, 2, 3
#: Labels of the saved segmentation masks.
MASK_BACKGROUND, MASK_PERSON, MASK_OCCLUDER = 0, 1, 2


@dataclass(frozen=True)
class PinholeCamera:
    """Square-image pinhole camera (OpenCV frame: x right, y down, z forward; pixel centres
    at integer coordinates, as in :mod:`postometro_mm.visualization.renderer`).

    Attributes:
        image_size: image side in px.
        focal_length: focal length in px.
    """
    image_size: int
    focal_length: float

    @property
    def principal_point(self) -> Tuple[float, float]:
        return (self.image_size / 2.0, self.image_size / 2.0)

    @property
    def intrinsics(self) -> np.ndarray:
        """(3, 3) matrix K."""
        cx, cy = self.principal_point
        return np.array([[self.focal_length, 0.0, cx], [0.0, self.focal_length, cy],
                         [0.0, 0.0, 1.0]])

    def project(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) camera-frame points -> (N, 2) pixels."""
        return project_points(points, self.focal_length, self.principal_point)


def part_labels(skinning_weights: np.ndarray, faces: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Part index (into :data:`PART_NAMES`) of every vertex (its dominant skinning joint) and
    of every face (dominant joint of the summed weights of its corners).

    Args:
        skinning_weights: (V, 24) SMPL ``weights``.
        faces: (F, 3).

    Returns:
        tuple: (V,) and (F,) int64 part indices.
    """
    joint_part = np.empty(24, dtype=np.int64)
    for part, joints in PART_JOINTS.items():
        for joint in joints:
            joint_part[SMPL24_NAMES.index(joint)] = PART_NAMES.index(part)
    vertex_part = joint_part[np.argmax(skinning_weights, axis=1)]
    face_part = joint_part[np.argmax(skinning_weights[faces].sum(axis=1), axis=1)]
    return vertex_part, face_part


def _own_part_table() -> Tuple[np.ndarray, np.ndarray]:
    """(24, P) bool own-part table and (24,) other-surface margins in J24 order."""
    own = np.zeros((len(J24_NAMES), len(PART_NAMES)), dtype=bool)
    margin = np.empty(len(J24_NAMES))
    for j, name in enumerate(J24_NAMES):
        parts = J24_OWN_PARTS[name]
        own[j, [PART_NAMES.index(p) for p in parts]] = True
        margin[j] = OTHER_SURFACE_MARGIN if parts else SURFACE_LANDMARK_MARGIN
    return own, margin


def joint_visibility(joints: np.ndarray, camera: PinholeCamera, face_index: np.ndarray,
                     depth: np.ndarray, face_part: np.ndarray,
                     occluder_mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Visibility code of every J24 joint (module docstring).

    Args:
        joints: (24, 3) J24 joints in the camera frame (m).
        camera: the camera the image was rendered with.
        face_index: (H, W) visible face per pixel (-1: none), from the renderer.
        depth: (H, W) depth of the visible surface (m).
        face_part: (F,) part index of every face (:func:`part_labels`).
        occluder_mask: (H, W) bool, True under an occluder.

    Returns:
        np.ndarray: (24,) int64 codes :data:`VISIBLE`, :data:`OUTSIDE_IMAGE`,
        :data:`SELF_OCCLUDED` or :data:`OCCLUDER`.
    """
    own, other_margin = _own_part_table()
    size = camera.image_size
    pixels = np.round(camera.project(joints)).astype(np.int64)
    inside = np.all((pixels >= 0) & (pixels < size), axis=1)
    codes = np.full(len(joints), OUTSIDE_IMAGE, dtype=np.int64)
    for j in np.flatnonzero(inside):
        col, row = pixels[j]
        face = face_index[row, col]
        hidden_by_body = False
        if face >= 0:
            margin = OWN_PART_MARGIN if own[j, face_part[face]] else other_margin[j]
            hidden_by_body = depth[row, col] < joints[j, 2] - margin
        if hidden_by_body:
            codes[j] = SELF_OCCLUDED
        elif occluder_mask is not None and occluder_mask[row, col]:
            codes[j] = OCCLUDER
        else:
            codes[j] = VISIBLE
    return codes


def place_person(rng: np.random.Generator, vertices: np.ndarray, camera: PinholeCamera,
                 fill_range: Tuple[float, float] = (0.55, 0.8),
                 max_shift: float = 0.12) -> np.ndarray:
    """Translation (3,) that puts a root-centred camera-frame body before the camera.

    The depth makes the larger side of the body's box about ``fill`` ~ U(fill_range) of the
    image; the box centre lands ``U(-max_shift, max_shift)`` image sides from the image
    centre (so a large, shifted person may be cut by the border).
    """
    fill = rng.uniform(*fill_range)
    shift = rng.uniform(-max_shift, max_shift, size=2) * camera.image_size
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    extent = float(max(hi[0] - lo[0], hi[1] - lo[1]))
    z = camera.focal_length * extent / (fill * camera.image_size) - (lo[2] + hi[2]) / 2.0
    xy = shift * (z + (lo[2] + hi[2]) / 2.0) / camera.focal_length - (lo[:2] + hi[:2]) / 2.0
    return np.array([xy[0], xy[1], z])


def person_colours(rng: np.random.Generator, vertex_part: np.ndarray) -> np.ndarray:
    """(V, 3) vertex colours: each part's base colour with a per-person random brightness
    (x U[0.75, 1.15]) and tint (+-20 per channel)."""
    base = np.array([PART_COLOURS[p] for p in PART_NAMES], dtype=np.float64)
    jittered = base * rng.uniform(0.75, 1.15, size=(len(base), 1)) + rng.uniform(
        -20.0, 20.0, size=base.shape)
    return np.clip(jittered, 0, 255)[vertex_part]


def random_light(rng: np.random.Generator) -> Tuple[np.ndarray, float]:
    """A light direction mostly from the camera side and an ambient weight in [0.3, 0.45]."""
    direction = np.array([rng.uniform(-0.7, 0.7), rng.uniform(-0.8, 0.3), -1.0])
    return direction, float(rng.uniform(0.3, 0.45))


def render_person(rng: np.random.Generator, vertices: np.ndarray, faces: np.ndarray,
                  joints: np.ndarray, vertex_part: np.ndarray, face_part: np.ndarray,
                  camera: PinholeCamera, occlusion: OcclusionLevel,
                  min_visible_keypoints: int = 4, max_attempts: int = 5) -> Dict[str, np.ndarray]:
    """Render one placed person over a random background and draw occluders.

    Occluders are redrawn (up to ``max_attempts`` times, then left out) until at least
    ``min_visible_keypoints`` COCO-17 keypoints stay visible.

    Args:
        rng: random generator (background, colours, light, occluders).
        vertices: (V, 3) camera-frame vertices (m), in front of the camera.
        faces: (F, 3).
        joints: (24, 3) camera-frame J24 joints (m).
        vertex_part, face_part: part indices (:func:`part_labels`).
        camera: the camera.
        occlusion: occluder statistics.
        min_visible_keypoints: see above.
        max_attempts: see above.

    Returns:
        dict: ``image`` (S, S, 3) uint8 RGB, ``mask`` (S, S) uint8 labels
        (:data:`MASK_BACKGROUND` / :data:`MASK_PERSON` / :data:`MASK_OCCLUDER`; person means
        visible body), ``joints_2d`` (24, 3) px + visibility (1/0), ``visibility_code`` (24,),
        ``box_center`` (2,) and ``box_side`` of the projected body's tight box (px).
    """
    size = (camera.image_size, camera.image_size)
    background = random_background(rng, *size)
    light, ambient = random_light(rng)
    render = render_mesh(vertices, faces, size, camera.focal_length, camera.principal_point,
                         vertex_colors=person_colours(rng, vertex_part), light_dir=light,
                         ambient=ambient, diffuse=1.0 - ambient)
    raster = rasterize(vertices, faces, size, camera.focal_length, camera.principal_point)
    scene = np.where(render.mask[..., None], render.rgb, background)

    uv = camera.project(vertices)
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    box_center, box_side = (lo + hi) / 2.0, float((hi - lo).max())
    joints_uv = camera.project(joints)
    anchors = joints_uv[np.all((joints_uv >= 0) & (joints_uv < camera.image_size), axis=1)]
    if len(anchors) == 0:
        anchors = box_center[None]

    image = scene
    occluder_mask = np.zeros(size, dtype=bool)
    codes = joint_visibility(joints, camera, raster.face_index, raster.depth, face_part)
    for _ in range(max_attempts):
        candidate, candidate_mask = draw_occluders(rng, scene, anchors, box_side, occlusion)
        candidate_codes = joint_visibility(joints, camera, raster.face_index, raster.depth,
                                           face_part, candidate_mask)
        if (candidate_codes[J24_TO_COCO17] == VISIBLE).sum() >= min_visible_keypoints:
            image, occluder_mask, codes = candidate, candidate_mask, candidate_codes
            break

    mask = np.where(render.mask, MASK_PERSON, MASK_BACKGROUND).astype(np.uint8)
    mask[occluder_mask] = MASK_OCCLUDER
    joints_2d = np.concatenate([joints_uv, (codes == VISIBLE)[:, None]], axis=1)
    return dict(image=image, mask=mask, joints_2d=joints_2d, visibility_code=codes,
                box_center=box_center, box_side=box_side)
