"""Base class of the mesh datasets and the one function that builds a sample's ``data_info``.

Every mesh dataset emits the same per-sample ``data_info`` (one person per sample, leading
instance axis of 1; see ``notes/common.md``):

=====================  ==========  ===========================================================
key                    shape       meaning
=====================  ==========  ===========================================================
img_path / img_bytes   str/bytes   image file, or encoded image bytes (TSV sets)
bbox                   (1, 4)      xyxy px, square, side ``bbox_scale``
bbox_center            (1, 2)      px
bbox_scale             (1, 2)      px, = 200 × SPIN ``scale`` (square)
keypoints              (1, 17, 2)  COCO-17 px (from J24 when the source has no COCO-17)
keypoints_visible      (1, 17)     1 if the source confidence > ``keypoint_conf_thr``
joints_2d              (1, 24, 2)  J24 px
joints_2d_visible      (1, 24)     as ``keypoints_visible``
joints_3d              (1, 24, 3)  m, camera frame (root-relative when the source is)
joints_3d_visible      (1, 24)     1 where the source confidence > 0
smpl_pose              (1, 72)     axis-angle, global orientation in the camera frame
smpl_betas             (1, 10)
gender                 (1,)        int64, 0 neutral / 1 male / 2 female
has_smpl, has_3d,      (1,)        float32 flags
has_2d
cam_intrinsics         (1, 3, 3)   optional: pinhole projection of ``joints_3d`` to pixels
id, dataset_name,                  record index in its annotation source, dataset name,
seq_name, frame_id                 sequence ('' if none) and frame index (-1 if none)
=====================  ==========  ===========================================================
"""
import copy
import os.path as osp
from abc import ABCMeta, abstractmethod
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Tuple

import mmpose
import numpy as np
from mmengine.dataset import BaseDataset
from mmpose.datasets.datasets.utils import parse_pose_metainfo

from postometro_mm.body_models import gender_to_index
from .keypoint_formats import coco17_from_j24
from .subsets import frame_range_mask
from .validation import InvalidAnnotationError



def coco17_metainfo_file() -> str:
    """mmpose's COCO-17 dataset-info config (the packaged copy when mmpose is installed)."""
    packaged = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_', 'datasets',
                        'coco.py')
    return packaged if osp.isfile(packaged) else 'configs/_base_/datasets/coco.py'


@lru_cache(maxsize=1)
def coco17_metainfo() -> dict:
    """Parsed COCO-17 keypoint metainfo (names, flip pairs, skeleton, colours, sigmas), so
    that mmpose's visualizer and utilities understand the ``keypoints`` field."""
    return parse_pose_metainfo(dict(from_file=coco17_metainfo_file()))


def parse_gender(value: Any, source: str) -> int:
    """Gender code 0 (neutral) / 1 (male) / 2 (female) of an annotation value.

    Accepts 'm'/'f'/'n', 'male'/'female'/'neutral' (str or bytes, any case), the integer
    codes, and 'none' or '' (no gender given) as neutral.
    """
    if isinstance(value, bytes):
        value = value.decode('latin1')
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str) and value.strip().lower() in ('', 'none'):
        return 0
    try:
        return int(gender_to_index(value.strip().lower() if isinstance(value, str) else value))
    except (KeyError, ValueError, TypeError):
        raise InvalidAnnotationError(
            f'{source}: gender {value!r} is not one of m/f/n, male/female/neutral, 0/1/2 or '
            'none') from None


def build_mesh_data_info(*, center: Sequence[float], box_side: float,
                         joints_2d: Optional[np.ndarray] = None,
                         keypoints: Optional[np.ndarray] = None,
                         joints_3d: Optional[np.ndarray] = None,
                         smpl_pose: Optional[np.ndarray] = None,
                         smpl_betas: Optional[np.ndarray] = None, has_smpl: bool = False,
                         gender: int = 0, keypoint_conf_thr: float = 0.0,
                         cam_intrinsics: Optional[np.ndarray] = None,
                         **metadata: Any) -> Dict[str, Any]:
    """Build one sample's ``data_info`` (module docstring) from source-level arrays.

    Args:
        center: box centre (x, y) px.
        box_side: side of the square box in px (200 × SPIN ``scale``).
        joints_2d: (24, 3) J24 px + confidence, or None.
        keypoints: (17, 3) COCO-17 px + confidence; None derives them from ``joints_2d``.
        joints_3d: (24, 4) J24 m + confidence, or None (``has_3d`` = 0).
        smpl_pose: (72,) axis-angle; smpl_betas: (10,). Zeros when ``has_smpl`` is False.
        has_smpl: whether the SMPL parameters are ground truth.
        gender: 0 neutral / 1 male / 2 female.
        keypoint_conf_thr: 2D joints with confidence above it are visible.
        cam_intrinsics: optional (3, 3) pinhole intrinsics of the image.
        **metadata: ``img_path`` or ``img_bytes``, ``id``, ``dataset_name``, ``seq_name``,
            ``frame_id`` (copied as given).
    """
    f32 = np.float32
    center = np.asarray(center, dtype=f32).reshape(1, 2)
    side = f32(box_side)
    if joints_2d is None:
        joints_2d = np.zeros((24, 3), dtype=f32)
    joints_2d = np.asarray(joints_2d, dtype=f32)
    if keypoints is None:
        keypoints = coco17_from_j24(joints_2d)
    keypoints = np.asarray(keypoints, dtype=f32)
    has_3d = joints_3d is not None and bool((np.asarray(joints_3d)[:, 3] > 0).any())
    if joints_3d is None:
        joints_3d = np.zeros((24, 4), dtype=f32)
    joints_3d = np.asarray(joints_3d, dtype=f32)
    if not has_smpl or smpl_pose is None or smpl_betas is None:
        has_smpl, smpl_pose, smpl_betas = False, np.zeros(72), np.zeros(10)

    joints_2d_visible = (joints_2d[:, 2] > keypoint_conf_thr).astype(f32)
    keypoints_visible = (keypoints[:, 2] > keypoint_conf_thr).astype(f32)
    info = dict(
        bbox=np.concatenate([center - side / 2, center + side / 2], axis=1),
        bbox_center=center,
        bbox_scale=np.full((1, 2), side, dtype=f32),
        keypoints=keypoints[None, :, :2].copy(),
        keypoints_visible=keypoints_visible[None],
        joints_2d=joints_2d[None, :, :2].copy(),
        joints_2d_visible=joints_2d_visible[None],
        joints_3d=joints_3d[None, :, :3].copy(),
        joints_3d_visible=(joints_3d[:, 3] > 0).astype(f32)[None],
        smpl_pose=np.asarray(smpl_pose, dtype=f32).reshape(1, 72),
        smpl_betas=np.asarray(smpl_betas, dtype=f32).reshape(1, 10),
        gender=np.array([gender], dtype=np.int64),
        has_smpl=np.array([has_smpl], dtype=f32),
        has_3d=np.array([has_3d], dtype=f32),
        has_2d=np.array([joints_2d_visible.any() or keypoints_visible.any()], dtype=f32),
    )
    if cam_intrinsics is not None:
        info['cam_intrinsics'] = np.asarray(cam_intrinsics, dtype=f32).reshape(1, 3, 3)
    info.update(metadata)
    return info


#: MMPose transforms that would change only part of a mesh sample's labels -> the mesh
#: transform to use instead.
_MESH_REPLACEMENTS = {
    'RandomFlip': 'MeshRandomFlip (it also mirrors joints_3d and smpl_pose)',
}


def _check_pipeline(dataset: str, pipeline: Sequence) -> None:
    """Refuse MMPose transforms that would leave a mesh sample's 3D labels inconsistent with
    its image (MMPose's RandomFlip mirrors the image and 2D keypoints only).

    Raises:
        ValueError: naming the step and its mesh replacement.
    """
    for index, step in enumerate(pipeline):
        name = step.get('type') if isinstance(step, dict) else type(step).__name__
        name = name if isinstance(name, str) else getattr(name, '__name__', '')
        name = name.rsplit('.', 1)[-1]  # a registry scope, e.g. 'mmpose.RandomFlip'
        if name in _MESH_REPLACEMENTS:
            raise ValueError(
                f'{dataset}: pipeline step {index} ({name}) transforms the image and 2D '
                f'keypoints but not the 3D labels of mesh samples; use '
                f'{_MESH_REPLACEMENTS[name]}')


class BaseMeshDataset(BaseDataset, metaclass=ABCMeta):
    """Base of the mesh datasets: metainfo, subset filters, invalid-record policy.

    A subclass implements :meth:`_load_table` (read and check its annotation source once) and
    :meth:`_make_data_info` (one record → ``data_info`` via :func:`build_mesh_data_info`).
    The dataset's ``data_list`` only holds record indices, so large annotation files stay in
    compact numpy columns (shared by dataloader workers) instead of one dict per sample.

    Args:
        ann_file (str): annotation file, relative to ``data_root`` unless absolute.
        data_root (str): root of ``ann_file`` and of ``data_prefix['img']``.
        data_prefix (dict): ``img``: folder that image names are relative to.
        metainfo (dict, optional): overrides of the class ``METAINFO`` (e.g. ``dataset_name``,
            used as the metric prefix).
        seq_prefixes (Sequence[str], optional): keep only records whose ``seq_name`` starts
            with one of these.
        frame_ranges (dict, optional): ``{seq_name: (start, end)}``: keep only records of
            these sequences with ``start <= frame_id < end``.
        skip_invalid (bool): skip invalid records with one warning that counts them, instead
            of raising for the first one. Default False.
        keypoint_conf_thr (float): 2D joints with a confidence above it are visible.
        indices, serialize_data, pipeline, test_mode, lazy_init, max_refetch: as in
            :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO: dict = dict(dataset_name='mesh')

    def __init__(self, ann_file: str = '', data_root: str = '',
                 data_prefix: dict = dict(img=''), metainfo: Optional[dict] = None,
                 seq_prefixes: Optional[Sequence[str]] = None,
                 frame_ranges: Optional[Dict[str, Sequence[int]]] = None,
                 skip_invalid: bool = False, keypoint_conf_thr: float = 0.0,
                 indices: Optional[Any] = None, serialize_data: bool = True,
                 pipeline: Sequence = (), test_mode: bool = False, lazy_init: bool = False,
                 max_refetch: int = 1000) -> None:
        self.seq_prefixes = tuple(seq_prefixes) if seq_prefixes else None
        self.frame_ranges = dict(frame_ranges) if frame_ranges else None
        self.skip_invalid = skip_invalid
        self.keypoint_conf_thr = float(keypoint_conf_thr)
        self._table: Dict[str, Any] = {}
        _check_pipeline(type(self).__name__, pipeline)
        super().__init__(
            ann_file=ann_file, metainfo=metainfo, data_root=data_root,
            data_prefix=dict(data_prefix), indices=indices, serialize_data=serialize_data,
            pipeline=list(pipeline), test_mode=test_mode, lazy_init=lazy_init,
            max_refetch=max_refetch)

    @classmethod
    def _load_metainfo(cls, metainfo: Optional[dict] = None) -> dict:
        meta = copy.deepcopy(coco17_metainfo())
        meta.update(copy.deepcopy(cls.METAINFO))
        if metainfo is not None:
            if not isinstance(metainfo, dict):
                raise TypeError(f'metainfo should be a dict, but got {type(metainfo)}')
            meta.update(copy.deepcopy(metainfo))
        return meta

    @property
    def dataset_name(self) -> str:
        return str(self.metainfo['dataset_name'])

    # -- subclass interface ----------------------------------------------------------------
    @abstractmethod
    def _load_table(self) -> Tuple[Dict[str, Any], np.ndarray]:
        """Read the annotation source once.

        Returns:
            tuple: the columns (each indexed by record, with at least ``seq_name`` and
            ``frame_id`` when :meth:`has_filters`) and a boolean mask (N,) of valid records.
        """

    @abstractmethod
    def _make_data_info(self, index: int) -> Dict[str, Any]:
        """``data_info`` of record ``index`` of the table."""

    # -- shared machinery ------------------------------------------------------------------
    def has_filters(self) -> bool:
        """Whether records are selected by sequence or frame."""
        return bool(self.seq_prefixes or self.frame_ranges)

    def _subset_mask(self, table: Dict[str, Any], num_records: int) -> np.ndarray:
        """Boolean mask (N,) of the records selected by the filter arguments."""
        keep = np.ones(num_records, dtype=bool)
        if self.seq_prefixes:
            keep &= np.array([str(s).startswith(self.seq_prefixes) for s in table['seq_name']],
                             dtype=bool)
        if self.frame_ranges:
            keep &= frame_range_mask(table['seq_name'], table['frame_id'], self.frame_ranges)
        return keep

    def load_data_list(self) -> List[dict]:
        table, valid = self._load_table()
        self._table = table
        selected = self._subset_mask(table, len(valid))
        keep = valid & selected
        if not keep.any():
            raise InvalidAnnotationError(
                f'{self.ann_file}: no record to use: {len(valid)} records, {int(valid.sum())} '
                f'valid (skip_invalid={self.skip_invalid}), {int(selected.sum())} selected by '
                f'seq_prefixes / frame_ranges')
        return [dict(ann_index=int(i)) for i in np.flatnonzero(keep)]

    def get_data_info(self, idx: int) -> dict:
        entry = super().get_data_info(idx)
        data_info = self._make_data_info(entry['ann_index'])
        data_info['sample_idx'] = entry['sample_idx']
        return data_info
