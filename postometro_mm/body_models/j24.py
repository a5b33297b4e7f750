"""METRO's 24 training joints (J24) of posed SMPL meshes, from SMPL parameters."""
from typing import Dict, Optional, Union

import numpy as np
import torch

from .joint_regressors import load_joint_regressor, mesh_to_j24
from .smpl import SMPL, gender_to_index
from .smpl_io import GENDERS


class SMPLJ24Regressor:
    """J24 joints (``J24_NAMES`` order) of SMPL meshes posed by numpy parameter arrays.

    Builds the mesh of each (pose, betas[, transl]) with the SMPL model of the given gender
    (models are loaded on first use) and regresses the joints with :func:`mesh_to_j24`
    (24 SMPL joints + 14 ``J_regressor_extra`` joints). Runs on the CPU in batches, without
    gradients; used by the annotation converters to derive 3D joints from SMPL labels.

    Args:
        model_path (str): folder with ``SMPL_{NEUTRAL,MALE,FEMALE}.{pkl,npz}``.
        j_regressor_extra (str): ``J_regressor_extra.npy`` (14, V).
        batch_size (int): meshes per SMPL forward pass. Default: 256.
    """

    def __init__(self, model_path: str, j_regressor_extra: str, batch_size: int = 256) -> None:
        if batch_size < 1:
            raise ValueError(f'batch_size must be positive, got {batch_size}')
        self.model_path = model_path
        self.extra_regressor = load_joint_regressor(j_regressor_extra)
        self.batch_size = batch_size
        self._models: Dict[str, SMPL] = {}

    def model(self, gender: Union[str, int]) -> SMPL:
        """The SMPL model of ``gender`` (any form :func:`gender_to_index` accepts)."""
        name = GENDERS[gender_to_index(gender)]
        if name not in self._models:
            self._models[name] = SMPL(self.model_path, gender=name)
        return self._models[name]

    @torch.no_grad()
    def __call__(self, pose: np.ndarray, betas: np.ndarray, gender: Union[str, int] = 'neutral',
                 transl: Optional[np.ndarray] = None) -> np.ndarray:
        """J24 joints of N meshes of one gender.

        Args:
            pose (np.ndarray): (N, 72) axis-angle, global orientation first.
            betas (np.ndarray): (N, 10) shape coefficients.
            gender (str | int): 'neutral'/'male'/'female', 'n'/'m'/'f' or 0/1/2.
            transl (np.ndarray, optional): (N, 3) translation in metres.

        Returns:
            np.ndarray: (N, 24, 3) float64 joints in metres, in the frame of the parameters.
        """
        model = self.model(gender)
        pose = np.asarray(pose)
        joints = []
        for start in range(0, len(pose), self.batch_size):
            rows = slice(start, start + self.batch_size)
            batch_pose = torch.as_tensor(pose[rows], dtype=torch.float32)
            vertices = model(
                betas=torch.as_tensor(np.asarray(betas)[rows], dtype=torch.float32),
                body_pose=batch_pose[:, 3:], global_orient=batch_pose[:, :3],
                transl=None if transl is None else torch.as_tensor(
                    np.asarray(transl)[rows], dtype=torch.float32))['vertices']
            joints.append(mesh_to_j24(vertices, model.joint_regressor,
                                      self.extra_regressor).double().numpy())
        return np.concatenate(joints) if joints else np.zeros((0, 24, 3))
