"""Procedural geometry of the synthetic body: a T-pose human made of closed tubes.

The body (SMPL frame: metres, +x = subject's left, +y up, +z forward, feet on y = -1.12) is
five closed tubes: torso-with-head, two legs and two arms. Each tube follows a polyline of
knots; the rings of level 0 are at every quarter between knots, level 1 keeps every second
ring and every second vertex around, level 2 every fourth, so the coarse levels are exact
vertex subsets of the fine one (like SMPL's sampler). Every SMPL joint lies at the centre of a
ring; the right limbs are exact mirror images of the left ones and the torso is symmetric.
"""
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np
import scipy.sparse as sp

from .joint_sets import SMPL24_FLIP_PERM, SMPL24_NAMES

FLOOR_Y = -1.12
NUM_LEVELS = 3
_J = {name: i for i, name in enumerate(SMPL24_NAMES)}

# (x, y, z, a, b): ring centre and the two ring radii of every knot (neutral body).
_TORSO = (  # rings are horizontal; a spans x, b spans z
    (0.0, -0.33, 0.02, 0.120, 0.090),   # bottom
    (0.0, -0.22, 0.02, 0.160, 0.110),   # pelvis
    (0.0, -0.11, -0.01, 0.140, 0.100),  # spine1
    (0.0, 0.03, 0.00, 0.150, 0.105),    # spine2
    (0.0, 0.09, 0.01, 0.160, 0.110),    # spine3
    (0.0, 0.20, -0.01, 0.155, 0.100),   # chest (thorax)
    (0.0, 0.29, -0.02, 0.055, 0.055),   # neck
    (0.0, 0.36, 0.02, 0.075, 0.085),    # head (base of the skull)
    (0.0, 0.44, 0.01, 0.085, 0.100),    # head middle
    (0.0, 0.50, 0.00, 0.060, 0.070))    # crown
_LEFT_LEG = (
    (0.070, -0.310, 0.015, 0.085, 0.085),  # hip
    (0.100, -0.690, 0.015, 0.055, 0.055),  # knee
    (0.090, -1.065, -0.030, 0.040, 0.040),  # ankle
    (0.115, -1.085, 0.085, 0.040, 0.030),  # foot (ball)
    (0.125, -1.090, 0.160, 0.035, 0.020))  # toes
_LEFT_ARM = (
    (0.075, 0.205, -0.010, 0.045, 0.045),  # collar
    (0.160, 0.225, -0.015, 0.050, 0.050),  # shoulder
    (0.400, 0.220, -0.040, 0.037, 0.037),  # elbow
    (0.665, 0.225, -0.045, 0.022, 0.030),  # wrist
    (0.835, 0.195, -0.065, 0.012, 0.030))  # finger tips (the hand joint is halfway)

#: Per-gender proportions: height, shoulder breadth, hip breadth, girth.
GENDER_PROPORTIONS: Dict[str, Dict[str, float]] = {
    'neutral': dict(height=1.00, shoulders=1.00, hips=1.00, girth=1.00),
    'male': dict(height=1.04, shoulders=1.08, hips=0.96, girth=1.05),
    'female': dict(height=0.95, shoulders=0.92, hips=1.08, girth=0.95)}


@dataclass
class ChainSpec:
    """One tube: knots, ring orientation and the joints sitting on its level-0 rings.

    ``joints`` maps an SMPL joint index to a level-0 ring index (knot i is ring 4 i).
    ``owner_before`` is the joint that skins the part before the first chain joint.
    """
    name: str
    knots: np.ndarray
    reference: np.ndarray
    angle_offset: float
    joints: List[Tuple[int, int]]
    owner_before: int


@dataclass
class TubeBody:
    """The synthetic body at level 0 plus the nested coarse levels.

    Attributes:
        vertices (np.ndarray): (V, 3) level-0 vertices.
        faces (list[np.ndarray]): (F_l, 3) int64 faces per level (outward winding).
        selections (list[np.ndarray]): level-0 indices of each level's vertices.
        mirror (np.ndarray): (V,) index of each vertex's mirror twin (x -> -x).
        ring_center (np.ndarray): (V, 3) centre of each vertex's ring (apex: itself).
        ring_u (np.ndarray): (V,) level-0 ring index along the chain (apex: -1 or R).
        chain (np.ndarray): (V,) chain index into ``chains``.
        around (np.ndarray): (V,) index around the ring (apex: -1).
        chains (list[ChainSpec]): the five tubes (torso, left/right leg, left/right arm).
        around_count (int): vertices per level-0 ring.
        rest_joints (np.ndarray): (24, 3) designed SMPL joint locations (ring centres).
        ring_rows (dict): (chain, u) -> level-0 vertex indices of that ring.
    """
    vertices: np.ndarray
    faces: List[np.ndarray]
    selections: List[np.ndarray]
    mirror: np.ndarray
    ring_center: np.ndarray
    ring_u: np.ndarray
    chain: np.ndarray
    around: np.ndarray
    chains: List[ChainSpec]
    around_count: int
    rest_joints: np.ndarray
    ring_rows: Dict[Tuple[int, int], np.ndarray]

    def ring(self, chain: int, u: int) -> np.ndarray:
        """Level-0 vertex indices of ring ``u`` of chain ``chain``."""
        return self.ring_rows[(chain, u)]

    def ring_vertex(self, chain: int, u: int, k: int) -> int:
        """Level-0 index of vertex ``k`` (mod the ring size) of ring ``u``."""
        return int(self.ring_rows[(chain, u)][k % self.around_count])


def _scaled_knots(knots: Tuple, proportions: Dict[str, float], breadth: float) -> np.ndarray:
    array = np.array(knots, dtype=np.float64)
    array[:, 0] *= breadth
    array[:, 1] = FLOOR_Y + (array[:, 1] - FLOOR_Y) * proportions['height']
    array[:, 3:] *= proportions['girth']
    return array


def chain_specs(gender: str) -> List[ChainSpec]:
    """The five tubes of a gender's body (left limbs only: right ones are mirrored)."""
    p = GENDER_PROPORTIONS[gender]
    torso = _scaled_knots(_TORSO, p, 1.0)
    torso[:2, 3] *= p['hips']
    x_axis = np.array([1.0, 0.0, 0.0])
    return [
        ChainSpec('torso', torso, x_axis, np.pi / 2, [
            (_J['pelvis'], 4), (_J['spine1'], 8), (_J['spine2'], 12), (_J['spine3'], 16),
            (_J['neck'], 24), (_J['head'], 28)], _J['pelvis']),
        ChainSpec('left_leg', _scaled_knots(_LEFT_LEG, p, p['hips']), x_axis, 0.0, [
            (_J['left_hip'], 0), (_J['left_knee'], 4), (_J['left_ankle'], 8),
            (_J['left_foot'], 12)], _J['pelvis']),
        ChainSpec('left_arm', _scaled_knots(_LEFT_ARM, p, p['shoulders']),
                  np.array([0.0, 1.0, 0.0]), 0.0, [
            (_J['left_collar'], 0), (_J['left_shoulder'], 4), (_J['left_elbow'], 8),
            (_J['left_wrist'], 12), (_J['left_hand'], 14)], _J['spine3'])]


def _ring_frames(knots: np.ndarray, reference: np.ndarray):
    """Level-0 ring centres, radii and frames (e1, e2) along a knot polyline."""
    steps = np.arange(4) / 4.0
    rows = [knots[i] * (1 - s) + knots[i + 1] * s for i in range(len(knots) - 1) for s in steps]
    rows.append(knots[-1])
    rings = np.array(rows)
    centers, radii = rings[:, :3], rings[:, 3:]
    tangents = np.gradient(centers, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    e1 = reference[None] - (tangents @ reference)[:, None] * tangents
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(e1, tangents)
    return centers, radii, tangents, e1, e2


def _tube_faces(num_rings: int, around: int) -> np.ndarray:
    """Faces of a capped tube: index 0 = start apex, 1 + r*around + k = ring r vertex k."""
    faces = []
    last = 1 + num_rings * around

    def vid(r: int, k: int) -> int:
        return 1 + r * around + k % around

    for k in range(around):
        faces.append((0, vid(0, k + 1), vid(0, k)))
        faces.append((last, vid(num_rings - 1, k), vid(num_rings - 1, k + 1)))
        for r in range(num_rings - 1):
            a, b, c, d = vid(r, k), vid(r, k + 1), vid(r + 1, k + 1), vid(r + 1, k)
            faces.extend([(a, b, c), (a, c, d)])
    return np.array(faces, dtype=np.int64)


def signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Signed volume of a closed triangle mesh (positive for outward winding)."""
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    return float(np.einsum('ij,ij->i', a, np.cross(b, c)).sum() / 6.0)


def _build_tube(spec: ChainSpec, around: int):
    centers, radii, tangents, e1, e2 = _ring_frames(spec.knots[:, :5], spec.reference)
    angles = spec.angle_offset + 2 * np.pi * np.arange(around) / around
    ring_points = (centers[:, None] + radii[:, None, 0:1] * np.cos(angles)[None, :, None] *
                   e1[:, None] + radii[:, None, 1:2] * np.sin(angles)[None, :, None] * e2[:, None])
    cap_start = 0.7 * radii[0].min()
    cap_end = 0.7 * radii[-1].min()
    vertices = np.concatenate([(centers[0] - cap_start * tangents[0])[None],
                               ring_points.reshape(-1, 3),
                               (centers[-1] + cap_end * tangents[-1])[None]])
    num_rings = len(centers)
    ring_u = np.concatenate([[-1], np.repeat(np.arange(num_rings), around), [num_rings]])
    around_index = np.concatenate([[-1], np.tile(np.arange(around), num_rings), [-1]])
    ring_center = np.concatenate([vertices[:1], np.repeat(centers, around, axis=0),
                                  vertices[-1:]])
    return vertices, ring_u, around_index, ring_center, centers


def _level_selection(num_rings: int, around: int, level: int) -> np.ndarray:
    """Local indices of a tube's vertices kept at ``level``."""
    step = 2 ** level
    rings = np.arange(0, num_rings, step)
    ks = np.arange(0, around, step)
    body = (1 + rings[:, None] * around + ks[None]).reshape(-1)
    return np.concatenate([[0], body, [1 + num_rings * around]])


def build_tube_body(gender: str = 'neutral', around: int = 12) -> TubeBody:
    """Build the synthetic body of ``gender`` with ``around`` vertices per level-0 ring.

    Args:
        gender (str): 'neutral', 'male' or 'female'.
        around (int): vertices per level-0 ring; a multiple of 4, at least 12.
    """
    if around % 4 or around < 12:
        raise ValueError(f'around must be a multiple of 4 and >= 12, got {around}')
    torso, leg, arm = chain_specs(gender)
    mirror_x = np.array([-1.0, 1.0, 1.0])
    parts = []  # (spec, vertices, ring_u, around_index, ring_center, centers, mirrored)
    for spec in (torso, leg, arm):
        built = _build_tube(spec, around)
        parts.append((spec, *built, False))
        if spec is not torso:
            right = ChainSpec(spec.name.replace('left', 'right'), spec.knots * np.r_[
                mirror_x, 1.0, 1.0], spec.reference * mirror_x, spec.angle_offset,
                [(int(SMPL24_FLIP_PERM[j]), u) for j, u in spec.joints], spec.owner_before)
            verts, ring_u, around_index, ring_center, centers = built
            parts.append((right, verts * mirror_x, ring_u, around_index, ring_center * mirror_x,
                          centers * mirror_x, True))
    # order: torso, left_leg, right_leg, left_arm, right_arm
    chains = [p[0] for p in parts]
    offsets = np.cumsum([0] + [len(p[1]) for p in parts])
    vertices = np.concatenate([p[1] for p in parts])
    rest_joints = np.zeros((24, 3))
    ring_rows: Dict[Tuple[int, int], np.ndarray] = {}
    for c, (spec, verts, ring_u, around_index, _, centers, _) in enumerate(parts):
        for u in range(len(centers)):
            ring_rows[(c, u)] = offsets[c] + 1 + u * around + np.arange(around)
        for j, u in spec.joints:
            rest_joints[j] = centers[u]

    faces_per_level, selections = [], []
    for level in range(NUM_LEVELS):
        level_faces, selection, start = [], [], 0
        for c, (spec, verts, _, _, _, centers, mirrored) in enumerate(parts):
            local = _level_selection(len(centers), around, level)
            if mirrored:  # exact mirror of the previous (left) tube: reverse its winding
                tube = tube[:, [0, 2, 1]]
            else:
                num_rings = len(range(0, len(centers), 2 ** level))
                tube = _tube_faces(num_rings, around // 2 ** level)
                if signed_volume(verts[local], tube) < 0:
                    tube = tube[:, [0, 2, 1]]
            level_faces.append(tube + start)
            selection.append(offsets[c] + local)
            start += len(local)
        faces_per_level.append(np.concatenate(level_faces))
        selections.append(np.concatenate(selection))

    mirror = np.arange(len(vertices))
    for c, (spec, verts, ring_u, around_index, *_rest) in enumerate(parts):
        rows = np.arange(offsets[c], offsets[c + 1])
        if spec.name == 'torso':
            twin_k = (-around_index) % around
            twin = np.where(around_index < 0, rows,
                            offsets[c] + 1 + np.maximum(ring_u, 0) * around + twin_k)
            mirror[rows] = twin
        elif spec.name.startswith('left'):
            twin_rows = np.arange(offsets[c + 1], offsets[c + 2])
            mirror[rows], mirror[twin_rows] = twin_rows, rows
    return TubeBody(
        vertices=vertices, faces=faces_per_level, selections=selections, mirror=mirror,
        ring_center=np.concatenate([p[4] for p in parts]),
        ring_u=np.concatenate([p[2] for p in parts]),
        chain=np.concatenate([np.full(len(p[1]), c) for c, p in enumerate(parts)]),
        around=np.concatenate([p[3] for p in parts]), chains=chains, around_count=around,
        rest_joints=rest_joints, ring_rows=ring_rows)


def skinning_weights(body: TubeBody, num_joints: int = 24) -> np.ndarray:
    """(V, 24) linear-blend weights: each ring belongs to the joint whose bone it lies on,
    blending linearly with the parent over about three rings around each joint."""
    weights = np.zeros((len(body.vertices), num_joints))
    for c, spec in enumerate(body.chains):
        rows = np.nonzero(body.chain == c)[0]
        u = body.ring_u[rows].astype(np.float64)
        positions = np.array([pos for _, pos in spec.joints], dtype=np.float64)
        gaps = np.diff(positions)
        half_widths = np.minimum(1.5, np.minimum(np.r_[np.inf, gaps], np.r_[gaps, np.inf]) / 2)
        steps = [np.clip(0.5 + (u - pos) / (2 * h), 0.0, 1.0)
                 for pos, h in zip(positions, half_widths)] + [np.zeros_like(u)]
        weights[rows, spec.owner_before] += 1.0 - steps[0]
        for i, (joint, _) in enumerate(spec.joints):
            weights[rows, joint] += steps[i] - steps[i + 1]
    return weights


def sampling_matrices(body: TubeBody) -> Tuple[List[sp.csc_matrix], List[sp.csc_matrix]]:
    """Down (selection) and up (interpolation) matrices between consecutive levels.

    ``D_k`` (V_{k+1}, V_k) picks the coarse vertices; ``U_k`` (V_k, V_{k+1}) copies them back
    and sets the others to the mean of their two (or four) coarse grid neighbours, so
    ``D_k @ U_k`` is the identity.
    """
    downs, ups = [], []
    for level in range(NUM_LEVELS - 1):
        fine, coarse = body.selections[level], body.selections[level + 1]
        fine_pos = {int(v): i for i, v in enumerate(fine)}
        coarse_pos = {int(v): i for i, v in enumerate(coarse)}
        down = sp.csc_matrix((np.ones(len(coarse)), ([*range(len(coarse))],
                              [fine_pos[int(v)] for v in coarse])),
                             shape=(len(coarse), len(fine)))
        step = 2 ** (level + 1)
        rows, cols, vals = [], [], []
        for i, v in enumerate(fine):
            if int(v) in coarse_pos:
                neighbours = [int(v)]
            else:
                c, u, k = body.chain[v], body.ring_u[v], body.around[v]
                us = [u] if u % step == 0 else [u - u % step, u - u % step + step]
                ks = [k] if k % step == 0 else [k - k % step, k - k % step + step]
                neighbours = [body.ring_vertex(c, uu, kk) for uu in us for kk in ks]
            rows.extend([i] * len(neighbours))
            cols.extend(coarse_pos[n] for n in neighbours)
            vals.extend([1.0 / len(neighbours)] * len(neighbours))
        up = sp.csc_matrix((vals, (rows, cols)), shape=(len(fine), len(coarse)))
        downs.append(down)
        ups.append(up)
    return downs, ups


def adjacency_from_faces(faces: np.ndarray, num_vertices: int) -> sp.csc_matrix:
    """Symmetric vertex adjacency; each entry counts the faces sharing that edge."""
    i = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2]])
    j = np.concatenate([faces[:, 1], faces[:, 2], faces[:, 0]])
    directed = sp.csc_matrix((np.ones(len(i)), (i, j)), shape=(num_vertices, num_vertices))
    return (directed + directed.T).tocsc()
