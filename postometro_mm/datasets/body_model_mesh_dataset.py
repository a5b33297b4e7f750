"""SMPL parameters of whole motion sequences (AMASS, BEDLAM) and of SPIN-style annotation
files, one sample per frame drawn: the training data of mesh autoencoders (Mesh-VQ-VAE).

Samples carry parameters only; :class:`~postometro_mm.datasets.transforms.BuildBodyModelMesh`
turns them into meshes in the data pipeline.
"""
import functools
import glob
import os.path as osp
from typing import Any, Dict, List, Optional

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmpose.registry import DATASETS
from ..body_models.npz_io import npz_member_names, npz_member_shape
from .base_mesh_dataset import parse_gender
from .keypoint_formats import seq_and_frame_from_imgname
from .spin_npz_dataset import read_npz
from .validation import InvalidAnnotationError, require_file

#: SMPL pose width and the pose widths of motion files whose first 22 joints are SMPL's
#: (global orientation + 21 body joints): SMPL, SMPL-H (+ 2 x 15 hand joints), SMPL-X
#: (+ jaw, eyes, hands).
SMPL_POSE_DIMS = 72
_BODY_POSE_DIMS = 66
_MOTION_POSE_DIMS = {72: 'SMPL', 156: 'SMPL-H', 165: 'SMPL-X'}

FRAME_MODES = ('random', 'all')


def to_smpl_pose(poses: np.ndarray) -> np.ndarray:
    """(T, 72 | 156 | 165) axis-angle poses of SMPL / SMPL-H / SMPL-X -> (T, 72) SMPL poses:
    the global orientation and the 21 body joints are kept; SMPL's two hand joints (22, 23)
    are set to rest for SMPL-H / SMPL-X input, whose hands have their own joints."""
    if poses.shape[1] == SMPL_POSE_DIMS:
        return poses.astype(np.float32)
    out = np.zeros((len(poses), SMPL_POSE_DIMS), np.float32)
    out[:, :_BODY_POSE_DIMS] = poses[:, :_BODY_POSE_DIMS]
    return out


@functools.lru_cache(maxsize=4)
def _motion_poses(path: str) -> np.ndarray:
    """(T, 72) float32 SMPL poses of a motion file (a few kept per process)."""
    with np.load(path, allow_pickle=False) as npz:
        return to_smpl_pose(np.asarray(npz['poses']))


@DATASETS.register_module()
class BodyModelMeshDataset(BaseDataset):
    """SMPL parameters of motion sequences and annotation files, per frame.

    Sources (``ann_file``): a folder (every ``.npz`` below it, recursively), a ``.txt`` list
    of ``.npz`` files (one per line, relative to ``data_root``), or one ``.npz``. Two kinds
    of ``.npz`` are read:

    - **motion sequences** (AMASS, BEDLAM): ``poses`` (T, 72 | 156 | 165) axis-angle of SMPL /
      SMPL-H / SMPL-X (reduced to SMPL by :func:`to_smpl_pose`), ``betas`` (B,) or (T, B)
      with B >= ``num_betas`` (the first ``num_betas`` are used), ``gender`` (optional,
      'male' / 'female' / 'neutral'; default neutral). One file is one sequence. Poses are
      read when a frame is drawn (a few files are cached per process), so a corpus of any
      size costs only its file list in memory. AMASS's per-subject ``shape.npz`` (no
      ``poses``) is skipped, and the count is logged.
    - **SPIN-style annotation files** (those :class:`SPINNpzDataset` reads, e.g. the 3DPW
      converter's): ``pose`` (N, 72), ``shape`` (N, 10), optional ``has_smpl`` (records
      without SMPL are left out; the count is logged), ``gender``; sequences from
      ``seq_name`` or the parent folder of ``imgname`` (one sequence if neither).

    Args:
        ann_file (str): the source (see above), relative to ``data_root`` unless absolute.
        frames (str): ``'random'``: one sample per sequence, a uniformly random frame each
            time it is read (the Mesh-VQ-VAE recipe: the dataset's length is the number of
            sequences); ``'all'``: one sample per frame (evaluation).
        frame_stride (int): with ``frames='all'``, every ``frame_stride``-th frame of each
            sequence (e.g. 12 for one frame per 0.1 s of 120 Hz AMASS). Default: 1.
        num_betas (int): shape coefficients per sample. Default: 10.
        allow_pickle (bool): allow object arrays (e.g. image names) in SPIN-style files, read
            with an allow-list (see :func:`read_npz`).
        data_root, pipeline, test_mode, lazy_init, max_refetch: see
            :class:`mmengine.dataset.BaseDataset`.

    Each sample: ``smpl_pose`` (72,) float32 axis-angle (global orientation first),
    ``smpl_betas`` (num_betas,) float32, ``gender`` int (0 neutral, 1 male, 2 female),
    ``seq_name``, ``frame_id``, ``source`` (the file), ``id`` (the sample index).
    """

    METAINFO: dict = dict(dataset_name='body_model_meshes')

    def __init__(self, ann_file: str, frames: str = 'random', frame_stride: int = 1,
                 num_betas: int = 10, allow_pickle: bool = False, data_root: str = '',
                 pipeline: Optional[list] = None, test_mode: bool = False,
                 lazy_init: bool = False, max_refetch: int = 1000, **kwargs) -> None:
        if frames not in FRAME_MODES:
            raise ValueError(f'BodyModelMeshDataset: frames must be one of {FRAME_MODES}, '
                             f'got {frames!r}')
        if int(frame_stride) < 1:
            raise ValueError(f'BodyModelMeshDataset: frame_stride must be >= 1, got '
                             f'{frame_stride}')
        self.frames = frames
        self.frame_stride = int(frame_stride)
        self.num_betas = num_betas
        self.allow_pickle = allow_pickle
        # per sequence: source, seq_name, frame_ids (T,), gender (1,) or (T,), betas
        # (1, num_betas) or (T, num_betas), poses (T, 72) (None: a motion file, read on demand)
        self._sequences: List[Dict[str, Any]] = []
        super().__init__(ann_file=ann_file, data_root=data_root, pipeline=pipeline or [],
                         test_mode=test_mode, lazy_init=lazy_init, max_refetch=max_refetch,
                         serialize_data=False, **kwargs)

    # ------------------------------------------------------------------ sources
    def _source_files(self) -> List[str]:
        path = self.ann_file
        if osp.isdir(path):
            files = sorted(glob.glob(osp.join(path, '**', '*.npz'), recursive=True))
            if not files:
                raise InvalidAnnotationError(f'{path}: the folder holds no .npz file')
            return files
        require_file(path, 'body-model mesh source')
        if path.endswith('.npz'):
            return [path]
        if path.endswith('.txt'):
            with open(path, 'r', encoding='utf-8') as f:
                names = [line.strip() for line in f if line.strip()]
            if not names:
                raise InvalidAnnotationError(f'{path}: the list names no file')
            files = [n if osp.isabs(n) else osp.join(self.data_root, n) for n in names]
            for name in files:
                require_file(name, f'file listed in {path}')
            return files
        raise InvalidAnnotationError(f'{path}: expected a folder, a .txt list of .npz files '
                                     'or an .npz file')

    def _betas(self, betas: np.ndarray, frames: int, path: str, key: str) -> np.ndarray:
        if betas.ndim not in (1, 2) or (betas.ndim == 2 and len(betas) != frames) \
                or betas.shape[-1] < self.num_betas:
            raise InvalidAnnotationError(
                f'{path}: key "{key}" has shape {betas.shape}, expected (B,) or ({frames}, B) '
                f'with B >= {self.num_betas}')
        return betas[..., :self.num_betas].astype(np.float32).reshape(-1, self.num_betas)

    def _read_motion_file(self, path: str) -> Dict[str, Any]:
        shape = npz_member_shape(path, 'poses')
        if len(shape) != 2 or shape[1] not in _MOTION_POSE_DIMS:
            raise InvalidAnnotationError(
                f'{path}: key "poses" has shape {shape}, expected (T, D) with D one of '
                f'{sorted(_MOTION_POSE_DIMS)} ({", ".join(_MOTION_POSE_DIMS.values())})')
        if shape[0] == 0:
            raise InvalidAnnotationError(f'{path}: key "poses" holds no frame')
        with np.load(path, allow_pickle=False) as npz:
            if 'betas' not in npz.files:
                raise InvalidAnnotationError(f'{path}: required key "betas" is missing '
                                             f'(found keys: {sorted(npz.files)})')
            betas = self._betas(np.asarray(npz['betas']), shape[0], path, 'betas')
            gender = parse_gender(npz['gender'].reshape(-1)[0] if 'gender' in npz.files
                                  else 'neutral', f'{path}: key "gender"')
        return dict(source=path, seq_name=osp.splitext(osp.basename(path))[0],
                    gender=np.array([gender]),
                    betas=betas, poses=None, frame_ids=np.arange(shape[0]))

    def _read_annotation_file(self, path: str) -> List[Dict[str, Any]]:
        arrays = read_npz(path, self.allow_pickle)
        for key in ('pose', 'shape'):
            if key not in arrays:
                raise InvalidAnnotationError(f'{path}: required key "{key}" is missing '
                                             f'(found keys: {sorted(arrays)})')
        pose = np.asarray(arrays['pose'])
        num = len(pose)
        if pose.shape != (num, SMPL_POSE_DIMS) or num == 0:
            raise InvalidAnnotationError(f'{path}: key "pose" has shape {pose.shape}, '
                                         f'expected (N, {SMPL_POSE_DIMS}) with N > 0')
        if np.ndim(arrays['shape']) != 2:
            raise InvalidAnnotationError(f'{path}: key "shape" has shape '
                                         f'{np.shape(arrays["shape"])}, expected ({num}, 10)')
        betas = self._betas(np.asarray(arrays['shape']), num, path, 'shape')
        keep = np.ones(num, bool)
        if 'has_smpl' in arrays:
            keep = np.asarray(arrays['has_smpl']).reshape(num) > 0
        finite = np.isfinite(pose).all(1) & np.isfinite(betas).all(1)
        if (~finite & keep).any():
            raise InvalidAnnotationError(
                f'{path}: records {np.flatnonzero(~finite & keep)[:10].tolist()} have '
                'non-finite "pose" or "shape"')
        if not keep.any():
            raise InvalidAnnotationError(f'{path}: no record has SMPL parameters '
                                         '("has_smpl" is 0 everywhere)')
        if not keep.all():
            print_log(f'{path}: {int((~keep).sum())} of {num} records have no SMPL parameters '
                      '("has_smpl" 0) and are not used', logger='current')
        gender = np.zeros(num, np.int64)
        if 'gender' in arrays:
            uniques, inverse = np.unique(np.asarray(arrays['gender']).reshape(num),
                                         return_inverse=True)
            codes = np.array([parse_gender(u, f'{path}: key "gender"') for u in uniques])
            gender = codes[inverse.reshape(-1)]
        if 'seq_name' in arrays:
            seq_names = np.asarray(arrays['seq_name']).astype(str).reshape(num)
            frame_ids = (np.asarray(arrays['frame_id']).reshape(num) if 'frame_id' in arrays
                         else np.arange(num))
        elif 'imgname' in arrays:
            parsed = [seq_and_frame_from_imgname(str(n)) for n in arrays['imgname']]
            seq_names = np.array([p[0] for p in parsed])
            frame_ids = np.array([p[1] for p in parsed])
        else:
            seq_names = np.full(num, osp.splitext(osp.basename(path))[0])
            frame_ids = np.arange(num)
        sequences = []
        for name in dict.fromkeys(seq_names[keep].tolist()):
            rows = np.flatnonzero(keep & (seq_names == name))
            sequences.append(dict(
                source=path, seq_name=str(name), gender=gender[rows], betas=betas[rows],
                poses=pose[rows].astype(np.float32), frame_ids=frame_ids[rows].astype(np.int64)))
        return sequences

    # ------------------------------------------------------------------ BaseDataset
    def load_data_list(self) -> List[dict]:
        skipped = []
        for path in self._source_files():
            members = npz_member_names(path)
            if 'poses' in members:
                self._sequences.append(self._read_motion_file(path))
            elif 'pose' in members:
                self._sequences.extend(self._read_annotation_file(path))
            elif osp.basename(path) == 'shape.npz':
                skipped.append(path)
            else:
                raise InvalidAnnotationError(
                    f'{path}: neither a motion file (key "poses") nor a SPIN-style annotation '
                    f'file (keys "pose", "shape"); found keys {sorted(members)}')
        if skipped:
            print_log(f'{self.ann_file}: {len(skipped)} AMASS subject shape files '
                      '(shape.npz, no poses) skipped', logger='current')
        if not self._sequences:
            raise InvalidAnnotationError(f'{self.ann_file}: no sequence with SMPL poses')
        if self.frames == 'random':
            return [dict(sequence=i) for i in range(len(self._sequences))]
        return [dict(sequence=i, frame=f) for i, seq in enumerate(self._sequences)
                for f in range(0, len(seq['frame_ids']), self.frame_stride)]

    def get_data_info(self, idx: int) -> dict:
        entry = super().get_data_info(idx)
        seq = self._sequences[entry['sequence']]
        count = len(seq['frame_ids'])
        frame = entry['frame'] if 'frame' in entry else int(np.random.randint(count))
        poses = seq['poses'] if seq['poses'] is not None else _motion_poses(seq['source'])
        if len(poses) != count:
            raise InvalidAnnotationError(f'{seq["source"]}: "poses" changed since the dataset '
                                         f'was built ({len(poses)} frames, was {count})')

        def row(value: np.ndarray) -> np.ndarray:  # per-frame or per-sequence value
            return value[frame if len(value) > 1 else 0]
        return dict(smpl_pose=poses[frame].copy(), smpl_betas=row(seq['betas']).copy(),
                    gender=int(row(seq['gender'])), seq_name=seq['seq_name'],
                    frame_id=int(seq['frame_ids'][frame]), source=seq['source'], id=idx)
