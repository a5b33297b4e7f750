"""3DOH50K released annotations → annotation ``.npz`` for OH3DDataset.

Input: ``<root>/{trainset,testset}/annots.json`` and the images next to it. ``annots.json``
maps an annotation id (e.g. ``"00000"``) to a dict with (shapes as in PARE's and mmhuman3d's
3DOH readers): ``img_path`` (relative to the split folder, may use backslashes),
``bbox`` (2, 2) [[x1, y1], [x2, y2]] px, ``pose`` (1, 72) axis-angle in the world frame,
``betas`` (1, 10), ``intri`` (3, 3) camera intrinsics, ``extri`` (4, 4) world→camera,
``lsp_joints_2d`` (14, 2) px (LSP order = the first 14 J24 joints; a (14, 3) array is read
as x, y, confidence). Keys ``trans``, ``scale``, ``smpl_joints_2d/3d``, ``lsp_joints_3d``
and ``mask_path`` are not used: their units/frames are not documented.

Output per split, ``oh3d_<split>.npz``, one record per annotation in SPIN's layout plus
extras (see :class:`~postometro_mm.datasets.SPINNpzDataset`):

- ``imgname`` ``<split>set/<img_path>``; ``center``/``scale``: square box of side 1.2 × the
  larger side of ``bbox``, ``scale`` = side / 200;
- ``pose`` with the global orientation rotated into the camera frame (R_extri · R_global),
  ``shape`` = betas, ``has_smpl`` 1 (no gender: neutral model);
- ``part`` (24, 3): ``lsp_joints_2d`` in J24 slots 0..13 (others invisible);
- ``S`` (24, 4), only with a body model: J24 of the neutral SMPL mesh of the camera-frame
  pose, without translation (root-relative use only, as METRO's labels);
- ``cam_intrinsics`` = ``intri``, ``seq_name`` '', ``frame_id`` = the annotation id (-1 if it
  is not a number), ``split``.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from postometro_mm.body_models.npz_io import save_npz_all
from ..validation import (InvalidAnnotationError, InvalidRecordLog, check_shape,
                          read_mapping_file, require_keys)
from .common import check_outputs_writable, check_splits, j24_regressor_or_none, stack_records

OH3D_SPLITS = ('train', 'test')
OH3D_REQUIRED_KEYS = ('img_path', 'bbox', 'pose', 'betas', 'intri', 'extri', 'lsp_joints_2d')
BOX_SCALE_FACTOR = 1.2
OH3D_COLUMNS = dict(
    imgname=((), '<U1'), center=((2, ), 'f8'), scale=((), 'f8'), pose=((72, ), 'f8'),
    shape=((10, ), 'f8'), has_smpl=((), 'f8'), part=((24, 3), 'f8'),
    cam_intrinsics=((3, 3), 'f8'), seq_name=((), '<U1'), frame_id=((), 'i8'),
    split=((), '<U1'))


def _annotation_record(ann_id: str, ann: dict, split: str, source: str) -> Dict[str, object]:
    if not isinstance(ann, dict):
        raise InvalidAnnotationError(f'{source}: expected a dict of labels, got '
                                     f'{type(ann).__name__}')
    require_keys(ann, OH3D_REQUIRED_KEYS, source)
    bbox = check_shape(np.reshape(ann['bbox'], -1), (4, ), source, 'bbox')
    pose = check_shape(np.reshape(ann['pose'], -1), (72, ), source, 'pose')
    betas = check_shape(np.reshape(ann['betas'], -1), (10, ), source, 'betas')
    intri = check_shape(ann['intri'], (3, 3), source, 'intri')
    extri = check_shape(ann['extri'], (4, 4), source, 'extri')
    lsp = check_shape(ann['lsp_joints_2d'], (14, None), source, 'lsp_joints_2d')
    if lsp.shape[1] not in (2, 3):
        raise InvalidAnnotationError(f'{source}: key "lsp_joints_2d" has shape {lsp.shape}, '
                                     'expected (14, 2) or (14, 3)')
    for key, value in (('bbox', bbox), ('pose', pose), ('betas', betas), ('intri', intri),
                       ('extri', extri), ('lsp_joints_2d', lsp)):
        if not np.isfinite(value).all():
            raise InvalidAnnotationError(f'{source}: key "{key}" holds NaN or inf')
    size = bbox[2:] - bbox[:2]
    if not (size > 0).all():
        raise InvalidAnnotationError(f'{source}: "bbox" {bbox.tolist()} is not '
                                     '[[x1, y1], [x2, y2]] with x2 > x1 and y2 > y1')
    pose = pose.copy()
    pose[:3] = cv2.Rodrigues(extri[:3, :3] @ cv2.Rodrigues(pose[:3])[0])[0].ravel()
    part = np.zeros((24, 3))
    part[:14, :2] = lsp[:, :2]
    part[:14, 2] = lsp[:, 2] if lsp.shape[1] == 3 else 1.0
    img_path = str(ann['img_path']).replace('\\', '/')
    return dict(
        imgname=f'{split}set/{img_path}', center=(bbox[:2] + bbox[2:]) / 2,
        scale=BOX_SCALE_FACTOR * float(size.max()) / 200.0, pose=pose, shape=betas,
        has_smpl=1.0, part=part, cam_intrinsics=intri, seq_name='',
        frame_id=int(ann_id) if str(ann_id).isdigit() else -1, split=split)


def convert_oh3d(root: str, out_dir: str, splits: Sequence[str] = OH3D_SPLITS,
                 body_model_dir: Optional[str] = None, j_regressor_extra: Optional[str] = None,
                 skip_invalid: bool = False, force: bool = False,
                 progress: bool = True) -> Dict[str, int]:
    """Convert 3DOH50K annotations (module docstring).

    Args:
        root: 3DOH50K root holding ``trainset/`` and ``testset/``.
        out_dir: output folder.
        splits: 'train' and/or 'test'.
        body_model_dir, j_regressor_extra: SMPL folder and ``J_regressor_extra.npy``; together
            they enable the J24 3D joints (``S``).
        skip_invalid: skip invalid annotations with one warning instead of raising.
        force: overwrite existing outputs.
        progress: show tqdm progress bars.

    Returns:
        dict: number of records written per split.
    """
    check_splits(splits, OH3D_SPLITS)
    j24 = j24_regressor_or_none(body_model_dir, j_regressor_extra)
    outputs = {split: osp.join(out_dir, f'oh3d_{split}.npz') for split in splits}
    check_outputs_writable(outputs.values(), force)

    result, arrays = {}, {}
    for split, out_path in outputs.items():
        ann_file = osp.join(root, f'{split}set', 'annots.json')
        annotations = read_mapping_file(ann_file, f'3DOH50K {split} annotation file',
                                        'a mapping from annotation id to labels')
        log = InvalidRecordLog(ann_file, skip_invalid)
        records: List[dict] = []
        for index, (ann_id, ann) in enumerate(
                tqdm(sorted(annotations.items()), desc=f'3DOH50K {split}',
                     disable=not progress)):
            source = f'{ann_file}: annotation "{ann_id}"'
            try:
                records.append(_annotation_record(ann_id, ann, split, source))
            except (InvalidAnnotationError, KeyError) as err:
                if not skip_invalid:
                    raise
                reason = (err.args[0] if err.args else str(err)).replace(f'{source}: ', '')
                log.add(index, reason.split(' (found keys')[0], name=str(ann_id))
        log.finish(len(annotations))
        columns = dict(OH3D_COLUMNS)
        if j24 is not None:
            columns['S'] = ((24, 4), 'f8')
            if records:
                joints = j24(np.stack([r['pose'] for r in records]),
                             np.stack([r['shape'] for r in records]))
                for record, joint in zip(records, joints):
                    record['S'] = np.concatenate([joint, np.ones((24, 1))], axis=1)
        arrays[out_path] = stack_records(records, columns)
        result[split] = len(records)
    save_npz_all(arrays, overwrite=force)  # all outputs or none
    return result
