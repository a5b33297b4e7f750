"""Synthetic SMPL-format body models for tests and the quickstart (no licensed data needed).

:func:`write_synthetic_body_model` writes, in the real on-disk formats, a deterministic
procedural articulated human (24-joint SMPL kinematic tree, linear blend skinning, 10 shape
and 207 pose blend shapes): ``SMPL_{NEUTRAL,MALE,FEMALE}.pkl`` (SMPL's pickle layout, with
``shapedirs`` stored as a chumpy-style object like the official files) and ``.npz``,
``J_regressor_extra.npy``, ``J_regressor_h36m_correct.npy``, a legacy pickled
``mesh_downsampling.npz`` and a pickle-free sampler file.

* Default: the small left/right-symmetric tube body of :mod:`.synthetic_geometry` (about
  1300 / 340 / 100 vertices on its three levels) with exact joint locations.
* ``topology_dir`` (a folder with SMPL's ``mesh_downsampling.npz`` and joint regressors):
  SMPL's sizes, real faces, sampling matrices and template vertices, with procedural
  skinning (nearest bone), blend shapes and joint regressor.
"""
import copyreg
import os
import os.path as osp
import pickle
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from .joint_sets import H36M17_NAMES, SMPL24_NAMES, SMPL24_PARENTS, SMPL_EXTRA14_NAMES
from .mesh_sampler import MeshSampler, read_mesh_sampler_file, save_legacy_mesh_sampler
from .npz_io import atomic_write, load_npz_member
from .restricted_pickle import ARRAY_GLOBALS
from .smpl_io import GENDERS, save_smpl_model_npz
from .synthetic_fields import (JOINT_PARTS, PARTS, pose_directions, shape_directions,
                               symmetrize_posedirs, symmetrize_shapedirs,
                               symmetrize_template)
from .synthetic_geometry import (TubeBody, adjacency_from_faces, build_tube_body,
                                 sampling_matrices, skinning_weights)

# Shape offsets that make the real-topology male/female variants differ from the neutral one.
_GENDER_BETAS = {'neutral': np.zeros(10),
                 'male': np.array([0.8, 0.4, 1.0, 0.3, 0.3, -0.5, 0.0, 0.3, 0.1, 0.3]),
                 'female': np.array([-0.8, -0.3, -1.0, -0.2, -0.3, 0.8, 0.0, -0.3, -0.1, -0.3])}
_LEVEL0_RINGS = 105   # level-0 rings of the tube body (torso 37, 17 per limb)
_APEXES = 10


class _ChumpyCh:
    """Pickles as ``chumpy.ch.Ch`` holding ``x`` (the layout of official SMPL files)."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x

    def __reduce_ex__(self, protocol: int):
        state = {'x': self.x, '_dirty_vars': set(), '_itr': None, '_make_dense': False,
                 '_make_sparse': False, '_depends_on_deps': {}}
        return copyreg.__newobj__, (type(self),), state


class _ChumpyLayoutPickler(pickle._Pickler):
    """Pure-Python pickler that names :class:`_ChumpyCh` as ``chumpy.ch.Ch``."""

    def save_global(self, obj: Any, name: Optional[str] = None) -> None:
        if obj is _ChumpyCh:
            self.write(pickle.GLOBAL + b'chumpy.ch\nCh\n')
            self.memoize(obj)
        else:
            super().save_global(obj, name)


def write_smpl_pkl(path: str, arrays: Dict[str, Any], chumpy_keys: Tuple[str, ...] = (
        'shapedirs',), overwrite: bool = True) -> str:
    """Write SMPL arrays as a protocol-2 pickle; ``chumpy_keys`` become ``chumpy.ch.Ch``."""
    payload = {k: _ChumpyCh(v) if k in chumpy_keys else v for k, v in arrays.items()}
    return atomic_write(path, lambda f: _ChumpyLayoutPickler(f, protocol=2).dump(payload),
                        overwrite)


def _smpl_layout(v_template: np.ndarray, faces: np.ndarray, weights: np.ndarray,
                 j_regressor: sp.csc_matrix, shapedirs: np.ndarray, posedirs: np.ndarray,
                 mirror: np.ndarray) -> Dict[str, Any]:
    """The keys and dtypes of an official SMPL model file."""
    parents = np.array(SMPL24_PARENTS, dtype=np.int64)
    parents[0] = 4294967295  # SMPL stores the root's parent as uint32 -1
    return {
        'J_regressor_prior': j_regressor.copy(), 'f': faces.astype(np.uint32),
        'J_regressor': j_regressor, 'kintree_table': np.stack([parents, np.arange(24)]),
        'J': np.asarray(j_regressor @ v_template), 'weights_prior': weights.copy(),
        'weights': weights, 'vert_sym_idxs': mirror.astype(np.int64), 'posedirs': posedirs,
        'bs_style': 'lbs', 'v_template': v_template, 'shapedirs': shapedirs,
        'bs_type': 'lrotmin'}


def _ring_regressor(body: TubeBody) -> sp.csc_matrix:
    """(24, V): each SMPL joint is the mean of the level-0 ring it sits on."""
    rows, cols = [], []
    for c, spec in enumerate(body.chains):
        for joint, u in spec.joints:
            ring = body.ring(c, u)
            rows.extend([joint] * len(ring))
            cols.extend(ring.tolist())
    values = np.full(len(rows), 1.0 / body.around_count)
    return sp.csc_matrix((values, (rows, cols)), shape=(24, len(body.vertices)))


def _named_vertex_sets(body: TubeBody) -> Dict[str, Tuple[str, List]]:
    """Vertex sets of the extra / H36M joints: ('rings', [(chain, u)]) or ('vertices', ids)."""
    torso, left_leg, right_leg, left_arm, right_arm = range(5)
    quarter = body.around_count // 4
    top = int(np.nonzero((body.chain == torso) & (body.ring_u == body.ring_u[
        body.chain == torso].max()))[0][0])

    def vertex(u: int, k: int) -> int:  # torso ring vertex; k = 0 front, k > 0 subject's right
        return body.ring_vertex(torso, u, k)

    sets = {
        'Nose': ('vertices', [vertex(30, 0)]),
        'R_Eye': ('vertices', [vertex(31, 1)]), 'L_Eye': ('vertices', [vertex(31, -1)]),
        'R_Ear': ('vertices', [vertex(30, quarter)]),
        'L_Ear': ('vertices', [vertex(30, -quarter)]),
        'Jaw': ('vertices', [vertex(27, k) for k in (-1, 0, 1)]),
        'Top_of_Head': ('vertices', [top]),
        'R_Hip': ('rings', [(right_leg, 0)]), 'L_Hip': ('rings', [(left_leg, 0)]),
        'Pelvis': ('rings', [(left_leg, 0), (right_leg, 0)]),
        'Neck': ('rings', [(torso, 24)]), 'Thorax': ('rings', [(torso, 20)]),
        'Spine': ('rings', [(torso, 12)]), 'Torso': ('rings', [(torso, 12)]),
        'Head': ('rings', [(torso, 32)])}
    for side, leg, arm in (('R', right_leg, right_arm), ('L', left_leg, left_arm)):
        sets.update({f'{side}_Knee': ('rings', [(leg, 4)]), f'{side}_Ankle': ('rings', [(leg, 8)]),
                     f'{side}_Shoulder': ('rings', [(arm, 4)]),
                     f'{side}_Elbow': ('rings', [(arm, 8)]),
                     f'{side}_Wrist': ('rings', [(arm, 12)])})
    return sets


def _named_regressor(body: TubeBody, names: Tuple[str, ...]) -> Tuple[np.ndarray, np.ndarray]:
    """(J, V) uniform regressor over each named vertex set and the designed joint locations
    (ring centres from the knots, or the chosen vertices)."""
    sets = _named_vertex_sets(body)
    regressor = np.zeros((len(names), len(body.vertices)))
    designed = np.zeros((len(names), 3))
    for row, name in enumerate(names):
        kind, items = sets[name]
        if kind == 'rings':
            ids = np.concatenate([body.ring(c, u) for c, u in items])
            designed[row] = np.mean([body.ring_center[body.ring(c, u)[0]] for c, u in items],
                                    axis=0)
        else:
            ids = np.array(items)
            designed[row] = body.vertices[ids].mean(axis=0)
        regressor[row, ids] = 1.0 / len(ids)
    return regressor, designed


def _tube_model(gender: str, around: int, rng: np.random.Generator) -> Dict[str, Any]:
    body = build_tube_body(gender, around)
    mirror = body.mirror
    template = symmetrize_template(body.vertices, mirror)
    ring_center = symmetrize_template(body.ring_center, mirror)
    chain_part = np.array([PARTS.index('torso'), PARTS.index('leg'), PARTS.index('leg'),
                           PARTS.index('arm'), PARTS.index('arm')])
    part = chain_part[body.chain]
    neck_u = dict(body.chains[0].joints)[SMPL24_NAMES.index('neck')]
    part[(body.chain == 0) & (body.ring_u >= neck_u)] = PARTS.index('head')
    weights = skinning_weights(body)
    shapedirs = symmetrize_shapedirs(
        shape_directions(template, template - ring_center, part, body.rest_joints), mirror)
    posedirs = symmetrize_posedirs(pose_directions(weights, rng), mirror)
    extra, extra_joints = _named_regressor(body, SMPL_EXTRA14_NAMES)
    h36m, h36m_joints = _named_regressor(body, H36M17_NAMES)
    downs, ups = sampling_matrices(body)
    level_sizes = [len(s) for s in body.selections]
    return dict(
        smpl=_smpl_layout(template, body.faces[0], weights, _ring_regressor(body), shapedirs,
                          posedirs, mirror),
        rest_joints=body.rest_joints, extra=extra, extra_joints=extra_joints, h36m=h36m,
        h36m_joints=h36m_joints, mirror=mirror,
        sampler=dict(adjacency=[adjacency_from_faces(f, n) for f, n in
                                zip(body.faces, level_sizes)], up=ups, down=downs,
                     faces=body.faces))


class _MeshRecord:
    """Plain container for the pickled mesh objects in ``mesh_downsampling.npz`` [M]."""

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.v = np.asarray(state['v'], dtype=np.float64)
        self.f = np.asarray(state['f'], dtype=np.int64)


def read_reference_template(sampler_path: str) -> np.ndarray:
    """(6890, 3) SMPL template vertices from member ``M`` of the reference
    ``mesh_downsampling.npz`` (test data only; user files are never read this way)."""
    allowed = {**ARRAY_GLOBALS, ('__main__', 'MyMesh'): _MeshRecord,
               ('psbody.mesh.mesh', 'Mesh'): _MeshRecord}
    meshes = load_npz_member(sampler_path, 'M', allowed)
    return meshes[0].v


def _bone_segments(rest_joints: np.ndarray, leaf_ends: Dict[int, np.ndarray]
                   ) -> List[Tuple[int, np.ndarray, np.ndarray]]:
    """(joint, start, end) of every bone; a joint owns the bones to its children."""
    segments = [(parent, rest_joints[parent], rest_joints[child])
                for child, parent in enumerate(SMPL24_PARENTS) if parent >= 0]
    segments += [(joint, rest_joints[joint], end) for joint, end in leaf_ends.items()]
    return segments


def _segment_distances(points: np.ndarray, start: np.ndarray, end: np.ndarray):
    direction = end - start
    t = np.clip((points - start) @ direction / (direction @ direction), 0.0, 1.0)
    closest = start + t[:, None] * direction
    return np.linalg.norm(points - closest, axis=1), closest


def _nearest_bone_skinning(vertices: np.ndarray, segments, softness: float = 0.02,
                           keep: int = 3) -> Tuple[np.ndarray, np.ndarray]:
    """Skinning weights from distances to bones, and each vertex's offset from its bone."""
    num_verts = len(vertices)
    distance = np.full((num_verts, 24), np.inf)
    closest = np.zeros((num_verts, 24, 3))
    for joint, start, end in segments:
        d, c = _segment_distances(vertices, start, end)
        better = d < distance[:, joint]
        distance[better, joint] = d[better]
        closest[better, joint] = c[better]
    weights = np.exp(-(distance - distance.min(axis=1, keepdims=True)) / softness)
    weights[weights < np.sort(weights, axis=1)[:, [-keep]]] = 0.0
    weights /= weights.sum(axis=1, keepdims=True)
    owner = distance.argmin(axis=1)
    return weights, vertices - closest[np.arange(num_verts), owner], owner


def _slab_regressor(vertices: np.ndarray, rest_joints: np.ndarray,
                    directions: np.ndarray) -> sp.csc_matrix:
    """(24, V): each joint = mean of the vertices in a thin slab across its bone near it."""
    radius = np.where(np.isin(np.arange(24), [0, 3, 6, 9]), 0.22, 0.10)
    rows, cols, vals = [], [], []
    for joint in range(24):
        offset = vertices - rest_joints[joint]
        near = np.linalg.norm(offset, axis=1) < radius[joint]
        along = np.abs(offset @ directions[joint])
        half_width = 0.01
        while (near & (along < half_width)).sum() < 8:
            half_width *= 1.5
        ids = np.nonzero(near & (along < half_width))[0]
        rows.extend([joint] * len(ids))
        cols.extend(ids.tolist())
        vals.extend([1.0 / len(ids)] * len(ids))
    return sp.csc_matrix((vals, (rows, cols)), shape=(24, len(vertices)))


def _real_topology_models(topology_dir: str, rng: np.random.Generator) -> Dict[str, Any]:
    sampler_path = osp.join(topology_dir, 'mesh_downsampling.npz')
    matrices = read_mesh_sampler_file(sampler_path, allow_pickle=True)
    template = read_reference_template(sampler_path)
    design = build_tube_body('neutral', 12)
    tips = {c.name: design.vertices[(design.chain == i) & (design.ring_u == design.ring_u[
        design.chain == i].max())][0] for i, c in enumerate(design.chains)}
    leaf_ends = {15: tips['torso'], 22: tips['left_arm'], 23: tips['right_arm'],
                 10: tips['left_leg'], 11: tips['right_leg']}
    joints = design.rest_joints
    weights, radial, owner = _nearest_bone_skinning(template, _bone_segments(joints, leaf_ends))
    directions = np.zeros((24, 3))
    for child, parent in enumerate(SMPL24_PARENTS):
        if parent >= 0 and not directions[parent].any():
            directions[parent] = joints[child] - joints[parent]
    for joint, end in leaf_ends.items():
        directions[joint] = end - joints[joint]
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    j_regressor = _slab_regressor(template, joints, directions)
    shapedirs = shape_directions(template, radial, JOINT_PARTS[owner],
                                 np.asarray(j_regressor @ template))
    posedirs = pose_directions(weights, rng)
    mirror = cKDTree(template).query(template * np.array([-1.0, 1.0, 1.0]))[1]
    extra = np.load(osp.join(topology_dir, 'J_regressor_extra.npy'), allow_pickle=False)
    h36m = np.load(osp.join(topology_dir, 'J_regressor_h36m_correct.npy'), allow_pickle=False)
    models = {}
    for gender in GENDERS:
        v_template = template + shapedirs @ _GENDER_BETAS[gender]
        models[gender] = dict(
            smpl=_smpl_layout(v_template, matrices['F'][0], weights, j_regressor, shapedirs,
                              posedirs, mirror),
            rest_joints=np.asarray(j_regressor @ v_template), extra=extra,
            extra_joints=extra @ v_template, h36m=h36m, h36m_joints=h36m @ v_template,
            mirror=None)
    sampler = dict(adjacency=matrices['A'], up=matrices['U'], down=matrices['D'],
                   faces=matrices['F'])
    return dict(models=models, sampler=sampler)


def _around_for(num_vertices: Optional[int]) -> int:
    """Vertices per level-0 ring (multiple of 4, >= 12) giving about ``num_vertices``."""
    if num_vertices is None:
        return 12
    return max(12, 4 * int(round((num_vertices - _APEXES) / _LEVEL0_RINGS / 4)))


def write_synthetic_body_model(out_dir: str, num_vertices: Optional[int] = None,
                               topology_dir: Optional[str] = None,
                               seed: int = 0) -> Dict[str, Any]:
    """Write a synthetic body model in SMPL's on-disk formats (deterministic for a seed).

    Args:
        out_dir (str): output folder (created; existing files of the same names replaced).
        num_vertices (int, optional): approximate level-0 size of the procedural body
            (the nearest achievable: 105 * n + 10 for n = 12, 16, 20, ...). Default: 1270.
            Must be None or 6890 with ``topology_dir``.
        topology_dir (str, optional): folder with SMPL's ``mesh_downsampling.npz``,
            ``J_regressor_extra.npy`` and ``J_regressor_h36m_correct.npy``: build on SMPL's
            real topology (6890 / 1723 / 431 vertices) instead.
        seed (int): seed of the pose blend shapes. Default: 0.

    Returns:
        dict: ``model_dir`` (str), ``smpl_paths`` / ``smpl_npz_paths`` (gender -> file),
        ``j_regressor_extra``, ``j_regressor_h36m``, ``mesh_sampler`` (pickle-free) and
        ``mesh_downsampling`` (legacy) paths, ``num_vertices`` (per level), ``faces``
        (F, 3) int64, ``rest_joints`` / ``extra_joints`` / ``h36m_joints`` (gender ->
        designed (24|14|17, 3) locations in the T-pose), ``vertex_mirror_index`` ((V,)
        exact mirror map of the symmetric procedural body; None on the real topology).
    """
    out_dir = osp.abspath(os.fspath(out_dir))
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    if topology_dir is None:
        around = _around_for(num_vertices)
        pose_seed = rng.integers(2**31)
        models = {g: _tube_model(g, around, np.random.default_rng(pose_seed)) for g in GENDERS}
        sampler = models['neutral']['sampler']
    else:
        if num_vertices not in (None, 6890):
            raise ValueError(f'num_vertices={num_vertices} conflicts with topology_dir '
                             f'{topology_dir} (SMPL has 6890 vertices)')
        built = _real_topology_models(os.fspath(topology_dir), rng)
        models, sampler = built['models'], built['sampler']
    result: Dict[str, Any] = dict(model_dir=out_dir, smpl_paths={}, smpl_npz_paths={})
    for gender, model in models.items():
        stem = osp.join(out_dir, f'SMPL_{gender.upper()}')
        result['smpl_paths'][gender] = write_smpl_pkl(f'{stem}.pkl', model['smpl'])
        save_smpl_model_npz(model['smpl'], f'{stem}.npz', overwrite=True)
        result['smpl_npz_paths'][gender] = f'{stem}.npz'
    neutral = models['neutral']
    for key, name in (('extra', 'J_regressor_extra.npy'),
                      ('h36m', 'J_regressor_h36m_correct.npy')):
        path = osp.join(out_dir, name)
        atomic_write(path, lambda f, a=neutral[key]: np.save(f, a), overwrite=True)
        result[f'j_regressor_{key}'] = path
    legacy = save_legacy_mesh_sampler(
        osp.join(out_dir, 'mesh_downsampling.npz'), sampler['adjacency'], sampler['up'],
        sampler['down'], sampler['faces'], overwrite=True)
    result['mesh_downsampling'] = legacy
    result['mesh_sampler'] = MeshSampler(legacy, allow_pickle=True).save(
        osp.join(out_dir, 'mesh_sampler.npz'), overwrite=True)
    result.update(
        num_vertices=tuple(int(a.shape[0]) for a in sampler['adjacency']),
        faces=np.asarray(sampler['faces'][0], dtype=np.int64),
        rest_joints={g: m['rest_joints'] for g, m in models.items()},
        extra_joints={g: m['extra_joints'] for g, m in models.items()},
        h36m_joints={g: m['h36m_joints'] for g, m in models.items()},
        vertex_mirror_index=neutral['mirror'])
    return result
