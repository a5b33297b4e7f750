"""Shared pieces of the annotation converters: safe output files and J24 from SMPL."""
import os
import os.path as osp
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch

from postometro_mm.body_models import SMPL, load_joint_regressor
from postometro_mm.body_models.joint_regressors import mesh_to_j24


def check_outputs_writable(paths: Iterable[str], force: bool) -> None:
    """Refuse to overwrite existing outputs unless ``force`` (checked before writing any)."""
    existing = [p for p in paths if osp.exists(p)]
    if existing and not force:
        raise FileExistsError(f'output file(s) already exist: {", ".join(existing)}; pass '
                              '--force (force=True) to overwrite')


def save_npz_atomic(path: str, arrays: Dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` (uncompressed ``.npz``) through a temporary file + rename,
    so an interrupted run never leaves a truncated annotation file behind."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp_path = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.tmp')
    try:
        with open(tmp_path, 'wb') as f:
            np.savez(f, **arrays)
        os.replace(tmp_path, path)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)


def stack_records(records: List[Dict[str, Any]],
                  empty_shapes: Dict[str, Tuple[Tuple[int, ...], str]]) -> Dict[str, np.ndarray]:
    """Column-stack per-record dicts (all with the same keys) into arrays.

    Args:
        records: one dict per record.
        empty_shapes: ``{key: (per-record shape, dtype)}`` of the columns to write when there
            are no records, so that an empty output is still a well-formed file.
    """
    if not records:
        return {key: np.zeros((0, ) + shape, dtype=dtype)
                for key, (shape, dtype) in empty_shapes.items()}
    return {key: np.stack([np.asarray(r[key]) for r in records]) for key in records[0]}


def project_points(points: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    """Pinhole projection of camera-frame points (…, 3) with a 3×3 matrix → pixels (…, 2)."""
    homogeneous = points @ np.asarray(intrinsics, dtype=np.float64).T
    return homogeneous[..., :2] / homogeneous[..., 2:3]


class SMPLJ24:
    """METRO's J24 joints of SMPL meshes, for converters that can derive 3D joints.

    Args:
        body_model_dir (str): folder with ``SMPL_{NEUTRAL,MALE,FEMALE}.{pkl,npz}``.
        j_regressor_extra (str): ``J_regressor_extra.npy`` (14, V).
        batch_size (int): SMPL forward batch size.
    """

    def __init__(self, body_model_dir: str, j_regressor_extra: str,
                 batch_size: int = 256) -> None:
        self.body_model_dir = body_model_dir
        self.extra_regressor = load_joint_regressor(j_regressor_extra)
        self.batch_size = batch_size
        self._models: Dict[str, SMPL] = {}

    def _model(self, gender: str) -> SMPL:
        if gender not in self._models:
            self._models[gender] = SMPL(self.body_model_dir, gender=gender)
        return self._models[gender]

    @torch.no_grad()
    def __call__(self, pose: np.ndarray, betas: np.ndarray, gender: str = 'neutral',
                 transl: Optional[np.ndarray] = None) -> np.ndarray:
        """J24 (N, 24, 3) in metres of poses (N, 72), betas (N, 10), optional transl (N, 3)."""
        model = self._model(gender)
        out = []
        for start in range(0, len(pose), self.batch_size):
            part = slice(start, start + self.batch_size)
            p = torch.as_tensor(np.asarray(pose[part]), dtype=torch.float32)
            vertices = model(
                betas=torch.as_tensor(np.asarray(betas[part]), dtype=torch.float32),
                body_pose=p[:, 3:], global_orient=p[:, :3],
                transl=None if transl is None else torch.as_tensor(
                    np.asarray(transl[part]), dtype=torch.float32))['vertices']
            out.append(mesh_to_j24(vertices, model.joint_regressor,
                                   self.extra_regressor).double().numpy())
        return np.concatenate(out) if out else np.zeros((0, 24, 3))
