"""SMPL body model (via smplx, loaded without chumpy) and its gendered batch wrapper."""
import contextlib
import io
from typing import Dict, Optional, Union

import numpy as np
import smplx
import torch
from mmpose.registry import MODELS
from smplx.utils import Struct
from torch import Tensor, nn

from .smpl_io import GENDERS, load_smpl_model_file, resolve_smpl_path

_GENDER_ALIASES = {'n': 0, 'neutral': 0, 'm': 1, 'male': 1, 'f': 2, 'female': 2}

# smplx appends face/feet/hand keypoints picked at fixed SMPL-H vertex ids; those ids do not
# exist on other meshes, and this wrapper returns only the 24 kinematic joints, so the few
# extra joints smplx insists on are taken at vertex 0 and dropped.
_UNUSED_VERTEX_IDS = {name: 0 for name in ('nose', 'reye', 'leye', 'rear', 'lear')}


def gender_to_index(gender: Union[str, int, np.integer]) -> int:
    """Map a gender to its index in ``GENDERS`` (0 neutral, 1 male, 2 female).

    Args:
        gender (str | int): 'n'/'m'/'f', 'neutral'/'male'/'female' (any case) or 0/1/2.

    Raises:
        ValueError: for anything else.
    """
    if isinstance(gender, bytes):
        gender = gender.decode('latin1')
    if isinstance(gender, str):
        key = gender.strip().lower()
        if key in _GENDER_ALIASES:
            return _GENDER_ALIASES[key]
    elif isinstance(gender, (int, np.integer)) and not isinstance(gender, bool) \
            and 0 <= int(gender) < len(GENDERS):
        return int(gender)
    raise ValueError(f'unknown gender {gender!r}; expected one of {sorted(_GENDER_ALIASES)} '
                     f'or an index 0..{len(GENDERS) - 1} into {GENDERS}')


@MODELS.register_module()
class SMPL(nn.Module):
    """SMPL layer: shape and pose parameters -> mesh vertices and the 24 SMPL joints.

    Wraps ``smplx.SMPL`` fed with arrays read by :func:`load_smpl_model_file` (so official
    ``.pkl`` files load without chumpy). The model arrays are non-persistent buffers: they
    follow ``.to(device)`` but are not written into checkpoints.

    Args:
        model_path (str): an SMPL ``.pkl``/``.npz`` file, or a folder holding
            ``SMPL_{NEUTRAL,MALE,FEMALE}.{npz,pkl}``.
        gender (str): 'neutral', 'male' or 'female' (used to pick the file in a folder).
        num_betas (int): number of shape coefficients. Default: 10.

    Attributes:
        faces (np.ndarray): (F, 3) int64 triangle vertex indices.
        num_vertices (int): V (6890 for SMPL).
    """

    def __init__(self, model_path: str, gender: str = 'neutral', num_betas: int = 10) -> None:
        super().__init__()
        self.gender = GENDERS[gender_to_index(gender)]
        self.model_file = resolve_smpl_path(model_path, self.gender)
        data = load_smpl_model_file(self.model_file)
        if data['shapedirs'].shape[-1] < num_betas:
            raise ValueError(f'{self.model_file} has {data["shapedirs"].shape[-1]} shape '
                             f'components, {num_betas} requested')
        with contextlib.redirect_stdout(io.StringIO()):  # smplx prints a note on 10-beta files
            self.body = smplx.SMPL(
                self.model_file, data_struct=Struct(**data), num_betas=num_betas,
                gender=self.gender, create_betas=False, create_global_orient=False,
                create_body_pose=False, create_transl=False, vertex_ids=_UNUSED_VERTEX_IDS,
                use_hands=False, use_feet_keypoints=False)
        for module in self.body.modules():
            for name, buffer in list(module.named_buffers(recurse=False)):
                module.register_buffer(name, buffer, persistent=False)
        self.num_betas = num_betas
        self.faces = np.asarray(data['f'], dtype=np.int64)
        self.num_vertices = int(data['v_template'].shape[0])
        self.num_joints = int(data['kintree_table'].shape[1])

    @property
    def joint_regressor(self) -> Tensor:
        """(24, V) dense SMPL joint regressor (on the model's device)."""
        return self.body.J_regressor

    def forward(self, betas: Tensor, body_pose: Tensor, global_orient: Tensor,
                transl: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Pose and shape the mesh.

        Args:
            betas (Tensor): (B, num_betas) shape coefficients.
            body_pose (Tensor): (B, 69) axis-angle rotations of joints 1..23.
            global_orient (Tensor): (B, 3) axis-angle root rotation.
            transl (Tensor, optional): (B, 3) translation in metres.

        Returns:
            dict: ``vertices`` (B, V, 3) and ``joints`` (B, 24, 3), metres.
        """
        if betas.shape[-1] != self.num_betas:
            raise ValueError(f'betas should be (B, {self.num_betas}), got {tuple(betas.shape)}')
        expected_pose = 3 * (self.num_joints - 1)
        if body_pose.shape[-1] != expected_pose or global_orient.shape[-1] != 3:
            raise ValueError(f'body_pose should be (B, {expected_pose}) and global_orient '
                             f'(B, 3), got {tuple(body_pose.shape)} and '
                             f'{tuple(global_orient.shape)}')
        dtype = self.body.v_template.dtype
        output = self.body(
            betas=betas.to(dtype), body_pose=body_pose.to(dtype),
            global_orient=global_orient.to(dtype),
            transl=None if transl is None else transl.to(dtype))
        return dict(vertices=output.vertices, joints=output.joints[:, :self.num_joints])


@MODELS.register_module()
class GenderedSMPL(nn.Module):
    """Neutral, male and female SMPL models applied per sample.

    The module moves itself to the device of its inputs on first use (ground-truth meshes
    are often built outside the model, e.g. in metrics).

    Args:
        model_path (str): folder holding ``SMPL_{NEUTRAL,MALE,FEMALE}.{npz,pkl}``.
        num_betas (int): number of shape coefficients. Default: 10.
    """

    def __init__(self, model_path: str, num_betas: int = 10) -> None:
        super().__init__()
        self.models = nn.ModuleList(
            [SMPL(model_path, gender, num_betas) for gender in GENDERS])
        num_vertices = {model.num_vertices for model in self.models}
        if len(num_vertices) != 1:
            raise ValueError(f'SMPL models in {model_path} have different vertex counts '
                             f'{sorted(num_vertices)}')

    @property
    def faces(self) -> np.ndarray:
        """(F, 3) int64 faces shared by the three models."""
        return self.models[0].faces

    @property
    def num_vertices(self) -> int:
        return self.models[0].num_vertices

    def forward(self, pose: Tensor, betas: Tensor, gender: Tensor) -> Tensor:
        """Build each sample's mesh with the model of its gender.

        Args:
            pose (Tensor): (B, 72) axis-angle, global orientation first.
            betas (Tensor): (B, num_betas).
            gender (Tensor): (B,) int64, 0 neutral, 1 male, 2 female.

        Returns:
            Tensor: (B, V, 3) vertices in metres, float32, on ``pose.device``.
        """
        device = pose.device
        if self.models[0].body.v_template.device != device:
            self.to(device)
        gender = torch.as_tensor(gender, device=device).long().reshape(-1)
        if gender.numel() != pose.shape[0] or betas.shape[0] != pose.shape[0]:
            raise ValueError(f'pose {tuple(pose.shape)}, betas {tuple(betas.shape)} and gender '
                             f'{tuple(gender.shape)} must share the batch size')
        if gender.numel() and (gender.min() < 0 or gender.max() >= len(GENDERS)):
            raise ValueError(f'gender values must be in 0..{len(GENDERS) - 1} ({GENDERS}), '
                             f'got {sorted(set(gender.tolist()))}')
        vertices = pose.new_zeros((pose.shape[0], self.num_vertices, 3), dtype=torch.float32)
        for index in torch.unique(gender).tolist():
            rows = torch.nonzero(gender == index).squeeze(1)
            output = self.models[index](
                betas=betas[rows], body_pose=pose[rows, 3:], global_orient=pose[rows, :3])
            vertices[rows] = output['vertices'].to(vertices.dtype)
        return vertices
