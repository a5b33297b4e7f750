"""SPIN / PARE / CLIFF / EFT-style annotation ``.npz`` files, read directly."""
import os.path as osp
import zipfile
from typing import Any, Dict, Optional, Tuple

import numpy as np
from mmpose.registry import DATASETS

from ..body_models.npz_io import load_npz_member
from .base_mesh_dataset import BaseMeshDataset, build_mesh_data_info, parse_gender
from .keypoint_formats import seq_and_frame_from_imgname
from .validation import (InvalidAnnotationError, InvalidRecordLog, check_shape, nonfinite_rows,
                         require_file, require_keys)

#: optional per-record arrays: npz key -> (table column, per-record shape)
_OPTIONAL_ARRAYS = {
    'part': ('joints_2d', (24, 3)),
    'S': ('joints_3d', (24, 4)),
    'coco_keypoints': ('keypoints', (17, 3)),
    'cam_intrinsics': ('cam_intrinsics', (3, 3)),
}


def read_npz(path: str, allow_pickle: bool = False) -> Dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, with errors that name the file.

    Args:
        path: the archive.
        allow_pickle: allow object arrays (e.g. image names stored as Python strings). They
            are unpickled with an allow-list of numpy arrays and plain values
            (:func:`~postometro_mm.body_models.npz_io.load_npz_member`): a crafted file
            raises :class:`~postometro_mm.body_models.DisallowedPickleError`, it runs nothing.
    """
    require_file(path, 'annotation file')
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = list(npz.files)
            if not allow_pickle:
                return {key: npz[key] for key in keys}
        return {key: np.asarray(load_npz_member(path, key)) for key in keys}
    except ValueError as err:
        if 'allow_pickle' in str(err):
            raise InvalidAnnotationError(
                f'{path}: holds Python-object arrays; pass allow_pickle=True to read them '
                '(numpy arrays and plain values only)') from None
        raise InvalidAnnotationError(f'{path}: cannot be read as a .npz archive ({err})') from None
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        raise InvalidAnnotationError(f'{path}: cannot be read as a .npz archive ({err})') from None


def _text_column(values: np.ndarray, num: int, path: str, key: str) -> np.ndarray:
    values = np.asarray(values)
    if values.shape != (num,):
        raise InvalidAnnotationError(
            f'{path}: key "{key}" has shape {values.shape}, expected ({num},)')
    if values.dtype.kind == 'S':
        values = np.char.decode(values, 'latin1')
    return values.astype(str)


@DATASETS.register_module()
class SPINNpzDataset(BaseMeshDataset):
    """Mesh dataset over a SPIN-style annotation ``.npz`` (SPIN, PARE, CLIFF, EFT, and the
    files written by this package's converters).

    Keys, for N records (other keys, e.g. ``openpose`` or ``maskname``, are ignored):

    - required: ``imgname`` (N,) image path relative to ``data_prefix['img']``;
      ``center`` (N, 2) px; ``scale`` (N,) box side / 200.
    - optional: ``part`` (N, 24, 3) J24 px + confidence; ``S`` (N, 24, 4) J24 m + confidence
      (camera frame); ``pose`` (N, 72) and ``shape`` (N, 10), together; ``has_smpl`` (N,)
      (default: 1 where ``pose`` exists); ``gender`` (N,) 'm'/'f'/'n' (default neutral).
    - written by this package's converters: ``coco_keypoints`` (N, 17, 3) px + confidence
      (otherwise COCO-17 is taken from ``part``); ``seq_name`` (N,) and ``frame_id`` (N,)
      (otherwise parsed from ``imgname``: parent folder and trailing digits);
      ``cam_intrinsics`` (N, 3, 3); ``split`` (N,).

    Args:
        ann_file (str): the ``.npz`` file.
        allow_pickle (bool): allow object arrays in the file, read with an allow-list of
            numpy arrays and plain values (see :func:`read_npz`).
        **kwargs: see :class:`BaseMeshDataset`.
    """

    METAINFO: dict = dict(dataset_name='spin_npz')

    def __init__(self, ann_file: str = '', allow_pickle: bool = False, **kwargs) -> None:
        self.allow_pickle = allow_pickle
        super().__init__(ann_file=ann_file, **kwargs)

    def _load_table(self) -> Tuple[Dict[str, Any], np.ndarray]:
        path = self.ann_file
        require_file(path, f'{type(self).__name__} annotation file')
        arrays = read_npz(path, self.allow_pickle)
        require_keys(arrays, ('imgname', 'center', 'scale'), path)
        imgname = np.asarray(arrays['imgname'])
        if imgname.ndim != 1:
            raise InvalidAnnotationError(
                f'{path}: key "imgname" has shape {imgname.shape}, expected (N,)')
        num = len(imgname)
        if num == 0:
            raise InvalidAnnotationError(
                f'{path}: holds no records (e.g. a converter output of a split or subset with '
                'no person in the source data); remove it from the config')
        log = InvalidRecordLog(path, self.skip_invalid)
        table: Dict[str, Any] = dict(imgname=_text_column(imgname, num, path, 'imgname'))

        center = check_shape(arrays['center'], (num, 2), path, 'center')
        scale = np.asarray(arrays['scale'])
        scale = scale.reshape(num) if scale.shape == (num, 1) else scale
        box_side = 200.0 * check_shape(scale, (num,), path, 'scale')
        log.add_mask(nonfinite_rows(center) | ~np.isfinite(box_side), 'non-finite center or scale')
        log.add_mask(np.isfinite(box_side) & ~(box_side > 0), 'scale must be positive')
        table['center'] = center.astype(np.float32)
        table['box_side'] = box_side.astype(np.float32)

        for key, (column, shape) in _OPTIONAL_ARRAYS.items():
            if key in arrays:
                values = check_shape(arrays[key], (num, ) + shape, path, key)
                log.add_mask(nonfinite_rows(values), f'non-finite values in "{key}"')
                table[column] = values.astype(np.float32)

        if ('pose' in arrays) != ('shape' in arrays):
            present = 'pose' if 'pose' in arrays else 'shape'
            raise InvalidAnnotationError(
                f'{path}: has "{present}" without its partner; SMPL "pose" (N, 72) and '
                '"shape" (N, 10) must be given together')
        has_smpl = np.zeros(num, dtype=bool)
        if 'pose' in arrays:
            pose = check_shape(arrays['pose'], (num, 72), path, 'pose')
            betas = check_shape(arrays['shape'], (num, 10), path, 'shape')
            has_smpl = (check_shape(arrays['has_smpl'], (num, ), path, 'has_smpl') > 0
                        if 'has_smpl' in arrays else np.ones(num, dtype=bool))
            log.add_mask(has_smpl & (nonfinite_rows(pose) | nonfinite_rows(betas)),
                         'non-finite SMPL "pose" or "shape"')
            table['pose'] = pose.astype(np.float32)
            table['betas'] = betas.astype(np.float32)
        table['has_smpl'] = has_smpl

        gender = np.zeros(num, dtype=np.int64)
        if 'gender' in arrays:
            values = np.asarray(arrays['gender'])
            if values.shape != (num, ):
                raise InvalidAnnotationError(
                    f'{path}: key "gender" has shape {values.shape}, expected ({num},)')
            uniques, inverse = np.unique(values, return_inverse=True)
            codes = np.array([parse_gender(u, f'{path}: key "gender"') for u in uniques])
            gender = codes[inverse].astype(np.int64)
        table['gender'] = gender

        parsed = [seq_and_frame_from_imgname(n) for n in table['imgname']]
        table['seq_name'] = (_text_column(arrays['seq_name'], num, path, 'seq_name')
                             if 'seq_name' in arrays else np.array([p[0] for p in parsed]))
        table['frame_id'] = (check_shape(arrays['frame_id'], (num, ), path,
                                         'frame_id').astype(np.int64)
                             if 'frame_id' in arrays else np.array([p[1] for p in parsed]))
        if 'split' in arrays:
            table['split'] = _text_column(arrays['split'], num, path, 'split')

        log.finish(num)
        valid = np.ones(num, dtype=bool)
        valid[log.invalid_indices] = False
        return table, valid

    def _make_data_info(self, index: int) -> Dict[str, Any]:
        table = self._table

        def row(column: str) -> Optional[np.ndarray]:
            return table[column][index] if column in table else None

        return build_mesh_data_info(
            center=table['center'][index], box_side=table['box_side'][index],
            joints_2d=row('joints_2d'), keypoints=row('keypoints'), joints_3d=row('joints_3d'),
            smpl_pose=row('pose'), smpl_betas=row('betas'),
            has_smpl=bool(table['has_smpl'][index]), gender=int(table['gender'][index]),
            keypoint_conf_thr=self.keypoint_conf_thr, cam_intrinsics=row('cam_intrinsics'),
            img_path=osp.join(self.data_prefix['img'], str(table['imgname'][index])),
            id=int(index), dataset_name=self.dataset_name,
            seq_name=str(table['seq_name'][index]), frame_id=int(table['frame_id'][index]))
