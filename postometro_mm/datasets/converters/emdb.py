"""EMDB (Kaufmann et al., ICCV 2023) official sequence pickles -> annotation ``.npz`` for
:class:`~postometro_mm.datasets.EMDBDataset`.

Input: ``<root>/P<k>/<sequence>/P<k>_<sequence>_data.pkl`` (read by an allow-list unpickler:
numpy arrays and plain values only) beside ``<sequence>/images/%05d.jpg``. Keys used:
``name``, ``gender`` ('male' / 'female' / 'neutral'), ``emdb1`` / ``emdb2`` (split flags),
``n_frames``, ``good_frames_mask`` (F,), ``camera`` (``intrinsics`` 3x3, ``extrinsics``
F x 4 x 4 world->camera), ``smpl`` (``poses_root`` F x 3, ``poses_body`` F x 69, ``trans``
F x 3, ``betas`` 10, world frame), ``kp2d`` (F, 24, 2: the SMPL joints projected),
``bboxes`` (``bboxes`` F x 4 xyxy, ``invalid_idxs``).

Output: one record per good frame with a valid box of every sequence in the split (EMDB 1 is
the test set of the mesh-recovery papers), in SPIN's layout plus extras, as the 3DPW converter's:

- ``imgname`` ``P<k>/<sequence>/images/<frame>.jpg``; ``center`` / ``scale``: the square box
  of side 1.2 x the larger side of ``bboxes`` (``scale`` = side / 200);
- ``pose`` (72) with the global orientation rotated into the camera frame; ``shape``;
  ``gender`` 'm' / 'f' / 'n'; ``has_smpl`` 1;
- ``part`` (24, 3) J24 2D: with a body model the camera projection of the J24 joints of the
  gendered mesh, otherwise ``kp2d`` in the J24 slots of the SMPL joints (confidence 1; the
  other slots 0);
- ``S`` (24, 4) J24 in metres in the camera frame, only with a body model;
- ``cam_intrinsics``, ``seq_name`` (``name``), ``frame_id``, ``split``.

Files: ``emdb_<split>.npz`` per converted split (``emdb1``, ``emdb2``).
"""
import glob
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from postometro_mm.body_models import SMPLJ24Regressor
from postometro_mm.body_models.joint_sets import SMPL38_TO_J24
from postometro_mm.body_models.npz_io import save_npz_all
from postometro_mm.utils.geometry import pinhole_parameters, project_points
from ..validation import InvalidAnnotationError, check_shape, require_keys
from .common import (check_outputs_writable, check_splits, j24_regressor_or_none,
                     load_sequence_pickle, stack_records)

EMDB_SPLITS = ('emdb1', 'emdb2')
EMDB_REQUIRED_KEYS = ('name', 'gender', 'emdb1', 'emdb2', 'n_frames', 'good_frames_mask',
                      'camera', 'smpl', 'kp2d', 'bboxes')
BOX_SCALE_FACTOR = 1.2
EMDB_GENDERS = {'male': 'm', 'female': 'f', 'neutral': 'n'}
EMDB_COLUMNS = dict(
    imgname=((), '<U1'), center=((2, ), 'f8'), scale=((), 'f8'), pose=((72, ), 'f8'),
    shape=((10, ), 'f8'), has_smpl=((), 'f8'), gender=((), '<U1'), part=((24, 3), 'f8'),
    cam_intrinsics=((3, 3), 'f8'), seq_name=((), '<U1'), frame_id=((), 'i8'),
    split=((), '<U1'))


def load_emdb_sequence(path: str) -> dict:
    """Read one EMDB ``*_data.pkl`` and check the keys and shapes used here."""
    data = load_sequence_pickle(path, 'an EMDB sequence pickle', EMDB_REQUIRED_KEYS)
    for key, keys in (('camera', ('intrinsics', 'extrinsics')),
                      ('smpl', ('poses_root', 'poses_body', 'trans', 'betas')),
                      ('bboxes', ('bboxes', 'invalid_idxs'))):
        if not isinstance(data[key], dict):
            raise InvalidAnnotationError(f'{path}: "{key}" should be a dict')
        require_keys(data[key], keys, f'{path} ["{key}"]')
    frames = int(data['n_frames'])
    check_shape(np.ravel(data['good_frames_mask']), (frames, ), path, 'good_frames_mask')
    check_shape(data['camera']['extrinsics'], (frames, 4, 4), path, 'camera.extrinsics')
    try:
        pinhole_parameters(check_shape(data['camera']['intrinsics'], (3, 3), path,
                                       'camera.intrinsics'))
    except ValueError as err:
        raise InvalidAnnotationError(f'{path}: "camera.intrinsics": {err}') from None
    for key, width in (('poses_root', 3), ('poses_body', 69), ('trans', 3)):
        check_shape(data['smpl'][key], (frames, width), path, f'smpl.{key}')
    if np.size(data['smpl']['betas']) < 10:
        raise InvalidAnnotationError(f'{path}: "smpl.betas" has {np.size(data["smpl"]["betas"])}'
                                     ' values, expected >= 10')
    check_shape(data['kp2d'], (frames, 24, 2), path, 'kp2d')
    check_shape(data['bboxes']['bboxes'], (frames, 4), path, 'bboxes.bboxes')
    if str(data['gender']) not in EMDB_GENDERS:
        raise InvalidAnnotationError(f'{path}: "gender" is {data["gender"]!r}, expected one of '
                                     f'{sorted(EMDB_GENDERS)}')
    return data


def _kp2d_in_j24(kp2d: np.ndarray) -> np.ndarray:
    """(24, 2) projected SMPL joints -> (24, 3) J24 2D: the J24 slots that are SMPL joints get
    them with confidence 1, the others (face, head top, ...) confidence 0."""
    part = np.zeros((24, 3))
    from_smpl = SMPL38_TO_J24 < 24
    part[from_smpl, :2] = kp2d[SMPL38_TO_J24[from_smpl]]
    part[from_smpl, 2] = 1.0
    return part


def _sequence_records(data: dict, folder: str, split: str, j24: Optional[SMPLJ24Regressor],
                      counts: Dict[str, int]) -> List[Dict[str, np.ndarray]]:
    intrinsics = np.asarray(data['camera']['intrinsics'], dtype=np.float64)
    focal, principal = pinhole_parameters(intrinsics)
    extrinsics = np.asarray(data['camera']['extrinsics'], dtype=np.float64)
    smpl = data['smpl']
    boxes = np.asarray(data['bboxes']['bboxes'], dtype=np.float64)
    good = np.ravel(data['good_frames_mask']).astype(bool)
    counts['bad_frames'] += int((~good).sum())
    valid_box = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    valid_box[np.asarray(data['bboxes']['invalid_idxs'], dtype=np.int64).ravel()] = False
    counts['invalid_boxes'] += int((good & ~valid_box).sum())
    frames = np.flatnonzero(good & valid_box)
    gender = EMDB_GENDERS[str(data['gender'])]
    betas = np.asarray(smpl['betas'], dtype=np.float64).ravel()[:10]
    poses = np.concatenate([np.asarray(smpl['poses_root'], np.float64),
                            np.asarray(smpl['poses_body'], np.float64)], axis=1)[frames]
    rotations = extrinsics[frames, :3, :3]
    joints_cam = None
    if j24 is not None:
        joints_world = j24(poses, np.tile(betas, (len(frames), 1)), gender,
                           transl=np.asarray(smpl['trans'], np.float64)[frames])
        joints_cam = (np.einsum('nij,nkj->nki', rotations, joints_world) +
                      extrinsics[frames, None, :3, 3])
    records = []
    for k, frame in enumerate(frames):
        lo, hi = boxes[frame, :2], boxes[frame, 2:]
        pose = poses[k].copy()
        pose[:3] = cv2.Rodrigues(rotations[k] @ cv2.Rodrigues(pose[:3])[0])[0].ravel()
        record = dict(
            imgname=f'{folder}/images/{frame:05d}.jpg', center=(lo + hi) / 2,
            scale=BOX_SCALE_FACTOR * float((hi - lo).max()) / 200.0, pose=pose, shape=betas,
            has_smpl=1.0, gender=gender, cam_intrinsics=intrinsics,
            seq_name=str(data['name']), frame_id=int(frame), split=split)
        if joints_cam is not None:
            part = np.ones((24, 3))
            part[:, :2] = project_points(joints_cam[k], focal, principal)
            record.update(part=part, S=np.concatenate([joints_cam[k], np.ones((24, 1))], 1))
        else:
            record['part'] = _kp2d_in_j24(np.asarray(data['kp2d'], np.float64)[frame])
        records.append(record)
    return records


def convert_emdb(root: str, out_dir: str, splits: Sequence[str] = ('emdb1', ),
                 body_model_dir: Optional[str] = None, j_regressor_extra: Optional[str] = None,
                 force: bool = False, progress: bool = True) -> Dict[str, int]:
    """Convert the official EMDB sequence pickles (module docstring).

    Args:
        root: EMDB root holding ``P0`` ... ``P9``.
        out_dir: output folder.
        splits: any of ``emdb1`` (the usual test set) and ``emdb2``.
        body_model_dir: SMPL folder (``SMPL_{MALE,FEMALE,NEUTRAL}``); with ``j_regressor_extra``
            enables the J24 3D joints (``S``) and projected J24 2D joints (``part``).
        j_regressor_extra: ``J_regressor_extra.npy``.
        force: overwrite existing outputs.
        progress: show a progress bar.

    Returns:
        dict: records per split, and the frames left out, summed over the splits
        (``skipped_bad_frames``: not in ``good_frames_mask``; ``skipped_invalid_boxes``).
    """
    check_splits(splits, EMDB_SPLITS)
    j24 = j24_regressor_or_none(body_model_dir, j_regressor_extra)
    outputs = {split: osp.join(out_dir, f'emdb_{split}.npz') for split in splits}
    check_outputs_writable(outputs.values(), force)
    files = sorted(glob.glob(osp.join(root, 'P*', '*', '*_data.pkl')))
    if not files:
        raise FileNotFoundError(f'no EMDB sequence files (P*/<sequence>/*_data.pkl) in "{root}"')
    counts = dict(bad_frames=0, invalid_boxes=0)
    per_split: Dict[str, List[dict]] = {split: [] for split in splits}
    for path in tqdm(files, desc='EMDB', disable=not progress):
        data = load_emdb_sequence(path)
        folder = osp.relpath(osp.dirname(path), root).replace(osp.sep, '/')
        for split in splits:
            if bool(data[split]):
                per_split[split] += _sequence_records(data, folder, split, j24, counts)
    columns = dict(EMDB_COLUMNS, **({'S': ((24, 4), 'f8')} if j24 is not None else {}))
    save_npz_all({outputs[s]: stack_records(per_split[s], columns) for s in splits},
                 overwrite=force)
    result = {split: len(per_split[split]) for split in splits}
    result['skipped_bad_frames'] = counts['bad_frames']
    result['skipped_invalid_boxes'] = counts['invalid_boxes']
    return result
