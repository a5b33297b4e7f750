"""3DPW official sequence files → per-split / OCC / PC annotation ``.npz`` for PW3DDataset.

Input: ``<root>/sequenceFiles/{train,validation,test}/*.pkl`` (Python-2 pickles, read with
``encoding='latin1'`` by an allow-list unpickler: numpy arrays and plain values only) and
``<root>/imageFiles/<sequence>/image_%05d.jpg``. Per sequence:
``sequence`` (name), ``genders`` ('m'/'f' per person), ``poses`` (per person F×72, world
frame), ``betas`` (per person ≥10), ``trans`` (per person F×3), ``cam_poses`` (F×4×4
world→camera), ``cam_intrinsics`` (3×3), ``poses2d`` (per person F×3×18, OpenPose-18 x, y,
confidence), ``campose_valid`` (per person F flags), ``jointPositions`` (unused).

Output: one record per (frame, person) whose camera pose is valid and that has at least one
2D keypoint with confidence > 0, in SPIN's ``.npz`` layout plus extras (see
:class:`~postometro_mm.datasets.SPINNpzDataset`):

- ``imgname`` ``imageFiles/<seq>/image_<frame>.jpg``; ``center``/``scale``: square box of
  side 1.2 × the larger side of the visible-keypoint box, ``scale`` = side / 200 (SPIN/METRO);
- ``pose`` (72) with the global orientation rotated into the camera frame (R_cam · R_global);
  ``shape`` the first 10 betas; ``gender`` 'm'/'f'; ``has_smpl`` 1;
- ``coco_keypoints`` (17, 3): ``poses2d`` in COCO-17 order with their confidences;
- ``part`` (24, 3) J24 2D: with a body model, the camera projection of the J24 joints of the
  gendered mesh (confidence 1, as METRO's 3DPW labels); without, the COCO-17 keypoints in
  their J24 slots;
- ``S`` (24, 4) J24 in metres in the camera frame, only with a body model;
- ``cam_intrinsics``, ``seq_name``, ``frame_id``, ``person_id``, ``split``.

Files: ``pw3d_<split>.npz`` per split, ``pw3d_occ.npz`` and ``pw3d_pc.npz`` (SPEC §4.5; over
all converted splits).
"""
import glob
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from postometro_mm.body_models import SMPLJ24Regressor
from postometro_mm.body_models.npz_io import save_npz_all
from postometro_mm.utils.geometry import pinhole_parameters, project_points
from ..keypoint_formats import OPENPOSE18_TO_COCO17, j24_from_coco17
from ..subsets import PW3D_OCC_SEQUENCES, PW3D_PC_FRAME_RANGES, frame_range_mask, sequence_mask
from ..validation import InvalidAnnotationError, check_shape
from .common import (check_outputs_writable, check_splits, j24_regressor_or_none,
                     load_sequence_pickle, stack_records)

PW3D_SPLITS = ('train', 'validation', 'test')
PW3D_REQUIRED_KEYS = ('sequence', 'genders', 'poses', 'betas', 'trans', 'cam_poses',
                      'cam_intrinsics', 'poses2d', 'campose_valid')
BOX_SCALE_FACTOR = 1.2
#: per-record shape and dtype of every output column (used for empty outputs)
PW3D_COLUMNS = dict(
    imgname=((), '<U1'), center=((2, ), 'f8'), scale=((), 'f8'), pose=((72, ), 'f8'),
    shape=((10, ), 'f8'), has_smpl=((), 'f8'), gender=((), '<U1'),
    coco_keypoints=((17, 3), 'f8'), cam_intrinsics=((3, 3), 'f8'), seq_name=((), '<U1'),
    frame_id=((), 'i8'), person_id=((), 'i8'), split=((), '<U1'), part=((24, 3), 'f8'))
PW3D_GENDERS = ('m', 'f')


def load_pw3d_sequence(path: str) -> dict:
    """Read one official 3DPW sequence pickle and check the keys and shapes used here."""
    data = load_sequence_pickle(path, 'a 3DPW sequence pickle', PW3D_REQUIRED_KEYS)
    num_people = len(data['poses'])
    for key in ('genders', 'betas', 'trans', 'poses2d', 'campose_valid'):
        if len(data[key]) != num_people:
            raise InvalidAnnotationError(f'{path}: "{key}" lists {len(data[key])} people, '
                                         f'"poses" lists {num_people}')
    num_frames = len(data['cam_poses'])
    check_shape(data['cam_poses'], (num_frames, 4, 4), path, 'cam_poses')
    try:
        pinhole_parameters(check_shape(data['cam_intrinsics'], (3, 3), path, 'cam_intrinsics'))
    except ValueError as err:
        raise InvalidAnnotationError(f'{path}: "cam_intrinsics": {err}') from None
    for person in range(num_people):
        check_shape(data['poses'][person], (num_frames, 72), path, f'poses[{person}]')
        check_shape(data['trans'][person], (num_frames, 3), path, f'trans[{person}]')
        check_shape(data['poses2d'][person], (num_frames, 3, 18), path, f'poses2d[{person}]')
        check_shape(np.ravel(data['campose_valid'][person]), (num_frames, ), path,
                    f'campose_valid[{person}]')
        if np.size(data['betas'][person]) < 10:
            raise InvalidAnnotationError(
                f'{path}: "betas[{person}]" has {np.size(data["betas"][person])} values, '
                'expected >= 10')
        if str(data['genders'][person]) not in PW3D_GENDERS:
            raise InvalidAnnotationError(f'{path}: "genders[{person}]" is '
                                         f'{data["genders"][person]!r}, expected "m" or "f"')
    return data


def _sequence_records(data: dict, split: str, j24: Optional[SMPLJ24Regressor],
                      counts: Dict[str, int]) -> List[Dict[str, np.ndarray]]:
    seq_name = str(data['sequence'])
    intrinsics = np.asarray(data['cam_intrinsics'], dtype=np.float64)
    focal, principal = pinhole_parameters(intrinsics)
    cam_poses = np.asarray(data['cam_poses'], dtype=np.float64)
    records = []
    for person, gender in enumerate(data['genders']):
        gender = str(gender)
        valid = np.ravel(data['campose_valid'][person]).astype(bool)
        counts['invalid_campose'] += int((~valid).sum())
        frames = np.flatnonzero(valid)
        poses = np.asarray(data['poses'][person], dtype=np.float64)[frames]
        trans = np.asarray(data['trans'][person], dtype=np.float64)[frames]
        betas = np.asarray(data['betas'][person], dtype=np.float64).ravel()[:10]
        keypoints = np.asarray(data['poses2d'][person], dtype=np.float64)[frames]
        keypoints = keypoints.transpose(0, 2, 1)[:, OPENPOSE18_TO_COCO17]  # (n, 17, 3)
        rotations = cam_poses[frames, :3, :3]
        joints_cam = None
        if j24 is not None:
            joints_world = j24(poses, np.tile(betas, (len(frames), 1)), gender, transl=trans)
            joints_cam = (np.einsum('nij,nkj->nki', rotations, joints_world) +
                          cam_poses[frames, None, :3, 3])
        for k, frame in enumerate(frames):
            visible = keypoints[k, :, 2] > 0
            if not visible.any() or not np.isfinite(keypoints[k, visible]).all():
                counts['no_2d_keypoints'] += 1
                continue
            lo = keypoints[k, visible, :2].min(axis=0)
            hi = keypoints[k, visible, :2].max(axis=0)
            pose = poses[k].copy()
            orient = rotations[k] @ cv2.Rodrigues(pose[:3])[0]
            pose[:3] = cv2.Rodrigues(orient)[0].ravel()
            record = dict(
                imgname=f'imageFiles/{seq_name}/image_{frame:05d}.jpg',
                center=(lo + hi) / 2,
                scale=BOX_SCALE_FACTOR * float((hi - lo).max()) / 200.0,
                pose=pose, shape=betas, has_smpl=1.0, gender=gender,
                coco_keypoints=keypoints[k],
                cam_intrinsics=intrinsics, seq_name=seq_name, frame_id=int(frame),
                person_id=person, split=split)
            if joints_cam is not None:
                part = np.ones((24, 3))
                part[:, :2] = project_points(joints_cam[k], focal, principal)
                record.update(part=part, S=np.concatenate([joints_cam[k], np.ones((24, 1))], 1))
            else:
                record['part'] = j24_from_coco17(keypoints[k])
            records.append(record)
    return records


def convert_pw3d(root: str, out_dir: str, splits: Sequence[str] = PW3D_SPLITS,
                 body_model_dir: Optional[str] = None, j_regressor_extra: Optional[str] = None,
                 force: bool = False, progress: bool = True) -> Dict[str, int]:
    """Convert the official 3DPW sequence files (module docstring).

    Args:
        root: 3DPW root holding ``sequenceFiles/`` (and ``imageFiles/``).
        out_dir: output folder.
        splits: official splits to convert; OCC/PC are selected from all of them.
        body_model_dir: SMPL folder (``SMPL_{MALE,FEMALE}``); with ``j_regressor_extra``
            enables the J24 3D joints (``S``) and projected J24 2D joints (``part``).
        j_regressor_extra: ``J_regressor_extra.npy``.
        force: overwrite existing outputs.
        progress: show tqdm progress bars.

    Returns:
        dict: number of records per output name (``train``, …, ``occ``, ``pc``) and of
        skipped (frame, person) pairs (``skipped_invalid_campose``,
        ``skipped_no_2d_keypoints``).
    """
    check_splits(splits, PW3D_SPLITS)
    j24 = j24_regressor_or_none(body_model_dir, j_regressor_extra)
    outputs = {name: osp.join(out_dir, f'pw3d_{name}.npz') for name in (*splits, 'occ', 'pc')}
    check_outputs_writable(outputs.values(), force)

    counts = dict(invalid_campose=0, no_2d_keypoints=0)
    per_split: Dict[str, List[dict]] = {}
    for split in splits:
        split_dir = osp.join(root, 'sequenceFiles', split)
        if not osp.isdir(split_dir):
            raise FileNotFoundError(f'3DPW split folder "{split_dir}" does not exist (expected '
                                    'the official sequenceFiles/ layout)')
        files = sorted(glob.glob(osp.join(split_dir, '*.pkl')))
        if not files:
            raise FileNotFoundError(f'no 3DPW sequence files (*.pkl) in "{split_dir}"')
        records: List[dict] = []
        for path in tqdm(files, desc=f'3DPW {split}', disable=not progress):
            records += _sequence_records(load_pw3d_sequence(path), split, j24, counts)
        per_split[split] = records

    everything = [r for split in splits for r in per_split[split]]
    seq_names = [r['seq_name'] for r in everything]
    subsets = dict(
        occ=sequence_mask(seq_names, PW3D_OCC_SEQUENCES),
        pc=frame_range_mask(seq_names, [r['frame_id'] for r in everything],
                            PW3D_PC_FRAME_RANGES))
    result, arrays = {}, {}
    for name, path in outputs.items():
        if name in subsets:
            records = [r for r, keep in zip(everything, subsets[name]) if keep]
        else:
            records = per_split[name]
        columns = dict(PW3D_COLUMNS, **({'S': ((24, 4), 'f8')} if j24 is not None else {}))
        arrays[path] = stack_records(records, columns)
        result[name] = len(records)
    save_npz_all(arrays, overwrite=force)  # all outputs or none
    result['skipped_invalid_campose'] = counts['invalid_campose']
    result['skipped_no_2d_keypoints'] = counts['no_2d_keypoints']
    return result
