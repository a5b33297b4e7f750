"""Two-stage transformer mesh head of PostoMETRO (and FastMETRO without pose tokens), SPEC §1."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.structures import InstanceData
from torch import Tensor, nn

from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptSampleList
from ...body_models.joint_regressors import load_joint_regressor, regress_joints
from ...body_models.joint_sets import J14_HIP_INDICES, J14_NAMES, J24_TO_J14
from ..layers import PreNormTransformer, SinePositionEncoding2D
from .mesh_head_utils import (PELVIS, crop_to_image_px, pelvis_and_joints,
                              project_weak_perspective, stack_labels)

Feats = Union[Tensor, Sequence[Tensor]]


@MODELS.register_module()
class PostoMETROHead(BaseHead):
    """PostoMETRO head: image (+ pose) tokens → two transformers → joints, mesh and camera.

    Stage 1 (width ``embed_dims[0]``): the encoder runs over ``[camera; image; pose]`` tokens with
    a sine position encoding on the image tokens only; the decoder's queries are the joint and
    coarse-vertex tokens (self-attention masked by the coarse-mesh adjacency), its memory the
    encoder output without the camera token. Four Linear reductions (``dim_reduce_enc_cam``,
    ``dim_reduce_enc_img``, ``dim_reduce_dec``, ``dim_reduce_enc_pct``) lead to stage 2 (width
    ``embed_dims[1]``), which has the same structure. ``xyz_regressor`` reads joints and coarse
    vertices, ``cam_predictor`` the camera ``(s, tx, ty)``; a learnable Linear upsamples
    coarse → middle vertices and the mesh sampler's fixed matrix middle → fine.

    Pose-token layout of stage 2 (SPEC §1.2 quirk 1): with ``duplicate_pose_tokens=True`` (the
    reference code, needed to reproduce its weights) the whole stage-1 memory (image + pose)
    passes ``dim_reduce_enc_img`` and the pose outputs are appended again through
    ``dim_reduce_enc_pct``: 1 + hw + 2N encoder tokens (133 for hw=64, N=34). With ``False``
    (the paper) image outputs go through ``dim_reduce_enc_img`` and pose outputs through
    ``dim_reduce_enc_pct`` once: 1 + hw + N tokens (99).

    Module names follow the reference code so its weights map by prefix only.

    Args:
        in_channels (int): channels of the backbone feature map (2048 ResNet-50, 384
            HRNet-W48's lowest-resolution branch).
        mesh_sampler (dict): config of a ``MeshSampler`` with 3 levels (fine, middle, coarse).
        joint_regressor (str, optional): path of ``J_regressor_h36m_correct.npy``
            (17, V_fine): pelvis for root-relative meshes and the 14 evaluation joints. None
            builds the head without it (its parameters do not depend on it, e.g. to check a
            checkpoint's keys): :meth:`forward` works, root-relative outputs, :meth:`loss` and
            :meth:`predict` raise.
        body_model (dict, optional): config of a ``GenderedSMPL`` building ground-truth meshes
            for :meth:`loss` (its arrays are not saved in checkpoints).
        mid_faces (str, optional): ``.npy`` of the middle mesh's faces (F, 3) for the normal
            loss, e.g. FastMETRO's ``smpl_1723_faces.npy`` (3451 faces). Defaults to None: the
            sampler's level-1 faces (3442 of those 3451 for SMPL's ``mesh_downsampling.npz``).
        embed_dims (tuple[int, int]): widths of transformers 1 and 2. Defaults to (512, 128).
        feedforward_channels (tuple[int, int]): FFN widths. Defaults to (2048, 512).
        num_heads (int): attention heads. Defaults to 8.
        num_encoder_layers (int): encoder layers per transformer (S 1, M 2, L 3).
        num_decoder_layers (int): decoder layers per transformer (S 1, M 2, L 3).
        dropout (float): transformer dropout. Defaults to 0.1.
        with_pose_tokens (bool): expect pose tokens (B, N, embed_dims[0]) from the pose
            modulator; False = FastMETRO (no ``dim_reduce_enc_pct``). Defaults to True.
        duplicate_pose_tokens (bool): stage-2 layout, see above. Defaults to True.
        loss_vertices / loss_joints_3d / loss_joints_2d (dict): loss configs.
        loss_edge / loss_normal (dict, optional): middle-mesh regularisers; None disables.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 in_channels: int,
                 mesh_sampler: ConfigType,
                 joint_regressor: Optional[str],
                 body_model: OptConfigType = None,
                 mid_faces: Optional[str] = None,
                 embed_dims: Tuple[int, int] = (512, 128),
                 feedforward_channels: Tuple[int, int] = (2048, 512),
                 num_heads: int = 8,
                 num_encoder_layers: int = 1,
                 num_decoder_layers: int = 1,
                 dropout: float = 0.1,
                 with_pose_tokens: bool = True,
                 duplicate_pose_tokens: bool = True,
                 loss_vertices: ConfigType = dict(type='MeshVertexL1Loss'),
                 loss_joints_3d: ConfigType = dict(type='Joint3DL1Loss'),
                 loss_joints_2d: ConfigType = dict(type='Joint2DL1Loss'),
                 loss_edge: OptConfigType = dict(type='MeshEdgeLengthLoss'),
                 loss_normal: OptConfigType = dict(type='MeshNormalLoss'),
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        # Data read from files goes to the CPU (``.to()`` moves it), also when the model is
        # built under ``torch.device('meta')`` to check checkpoint keys. GenderedSMPL keeps its
        # (licensed) arrays in non-persistent buffers: they never enter checkpoints.
        with torch.device('cpu'):
            self._build_fixed_data(mesh_sampler, joint_regressor, mid_faces)
            self.body_model = MODELS.build(body_model) if body_model is not None else None
        d1, d2 = embed_dims
        self.with_pose_tokens = with_pose_tokens
        self.duplicate_pose_tokens = duplicate_pose_tokens

        self.conv_1x1 = nn.Conv2d(in_channels, d1, kernel_size=1)
        self.cam_token_embed = nn.Embedding(1, d1)
        self.joint_token_embed = nn.Embedding(self.num_joints, d1)
        self.vertex_token_embed = nn.Embedding(self.num_vertices_coarse, d1)
        self.position_encoding_1 = SinePositionEncoding2D(d1 // 2)
        self.position_encoding_2 = SinePositionEncoding2D(d2 // 2)
        transformer_cfg = dict(num_heads=num_heads, num_encoder_layers=num_encoder_layers,
                               num_decoder_layers=num_decoder_layers, dropout=dropout)
        self.transformer_1 = PreNormTransformer(d1, feedforward_channels=feedforward_channels[0],
                                                **transformer_cfg)
        self.transformer_2 = PreNormTransformer(d2, feedforward_channels=feedforward_channels[1],
                                                **transformer_cfg)
        self.dim_reduce_enc_cam = nn.Linear(d1, d2)
        self.dim_reduce_enc_img = nn.Linear(d1, d2)
        self.dim_reduce_dec = nn.Linear(d1, d2)
        if with_pose_tokens:
            self.dim_reduce_enc_pct = nn.Linear(d1, d2)
        self.xyz_regressor = nn.Linear(d2, 3)
        self.cam_predictor = nn.Linear(d2, 3)
        self.coarse2intermediate_upsample = nn.Linear(self.num_vertices_coarse,
                                                      self.num_vertices_mid)

        self.loss_vertices = MODELS.build(loss_vertices)
        self.loss_joints_3d = MODELS.build(loss_joints_3d)
        self.loss_joints_2d = MODELS.build(loss_joints_2d)
        self.loss_edge = MODELS.build(loss_edge) if loss_edge is not None else None
        self.loss_normal = MODELS.build(loss_normal) if loss_normal is not None else None

    def _build_fixed_data(self, mesh_sampler: ConfigType, joint_regressor: Optional[str],
                          mid_faces: Optional[str]) -> None:
        """Mesh sampler, H36M regressor, attention mask and middle-mesh edges/faces."""
        self.mesh_sampler = MODELS.build(mesh_sampler)
        levels = tuple(self.mesh_sampler.num_vertices)
        if len(levels) != 3:
            raise ValueError(f'PostoMETROHead: the mesh sampler {mesh_sampler} must have 3 levels '
                             f'(fine, middle, coarse), it has {levels}')
        self.num_vertices_fine, self.num_vertices_mid, self.num_vertices_coarse = levels
        self.num_joints = len(J14_NAMES)
        regressor = None
        if joint_regressor is not None:
            regressor = load_joint_regressor(joint_regressor).float()
            if regressor.shape != (17, self.num_vertices_fine):
                raise ValueError(
                    f'PostoMETROHead: joint_regressor {joint_regressor} has shape '
                    f'{tuple(regressor.shape)}, expected (17, {self.num_vertices_fine}) '
                    '(H36M joints of the fine mesh)')
        self.register_buffer('h36m_regressor', regressor, persistent=False)
        mask = self.mesh_sampler.decoder_attention_mask(num_joints=self.num_joints, level=-1)
        self.register_buffer('attention_mask', mask.bool(), persistent=False)
        self.register_buffer('mid_edges', torch.from_numpy(self.mesh_sampler.edges(1)),
                             persistent=False)
        faces = self.mesh_sampler.faces(1) if mid_faces is None else _load_faces(
            mid_faces, self.num_vertices_mid)
        self.register_buffer('mid_faces', torch.from_numpy(faces), persistent=False)

    # ------------------------------------------------------------------ forward
    def forward(self, feats: Feats, pose_tokens: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """
        Args:
            feats (Tensor | Sequence[Tensor]): (B, in_channels, h, w) feature map, or a sequence
                whose last element is it.
            pose_tokens (Tensor, optional): (B, N, embed_dims[0]) from the pose modulator;
                required iff ``with_pose_tokens``.

        Returns:
            dict: ``pred_cam`` (B, 3), ``pred_joints`` (B, 14, 3), ``pred_vertices_coarse``
            (B, Vc, 3), ``pred_vertices_mid`` (B, Vm, 3), ``pred_vertices`` (B, V, 3); metres,
            not root-relative.
        """
        x = feats[-1] if isinstance(feats, (list, tuple)) else feats
        if (pose_tokens is None) == self.with_pose_tokens:
            raise ValueError(
                f'PostoMETROHead built with with_pose_tokens={self.with_pose_tokens} got '
                f'pose_tokens={None if pose_tokens is None else tuple(pose_tokens.shape)}')
        batch_size, _, h, w = x.shape
        num_img = h * w
        img = self.conv_1x1(x).flatten(2).transpose(1, 2)
        cam = self.cam_token_embed.weight.expand(batch_size, -1, -1)
        queries = torch.cat([self.joint_token_embed.weight, self.vertex_token_embed.weight])
        queries = queries.expand(batch_size, -1, -1)

        tokens_1 = [cam, img] + ([pose_tokens] if pose_tokens is not None else [])
        src_1 = torch.cat(tokens_1, dim=1)
        pos_1 = self._image_pos(self.position_encoding_1, h, w, src_1.shape[1], x.device)
        enc_1, dec_1 = self.transformer_1(src_1, queries, pos_1, self.attention_mask)

        tokens_2 = [self.dim_reduce_enc_cam(enc_1[:, :1])]
        if pose_tokens is None:
            tokens_2.append(self.dim_reduce_enc_img(enc_1[:, 1:]))
        else:
            pose_out = self.dim_reduce_enc_pct(enc_1[:, 1 + num_img:])
            memory_1 = enc_1[:, 1:] if self.duplicate_pose_tokens else enc_1[:, 1:1 + num_img]
            tokens_2 += [self.dim_reduce_enc_img(memory_1), pose_out]
        src_2 = torch.cat(tokens_2, dim=1)
        pos_2 = self._image_pos(self.position_encoding_2, h, w, src_2.shape[1], x.device)
        enc_2, dec_2 = self.transformer_2(src_2, self.dim_reduce_dec(dec_1), pos_2,
                                          self.attention_mask)

        xyz = self.xyz_regressor(dec_2)
        coarse = xyz[:, self.num_joints:]
        mid = self.coarse2intermediate_upsample(coarse.transpose(1, 2)).transpose(1, 2)
        return dict(
            pred_cam=self.cam_predictor(enc_2[:, 0]),
            pred_joints=xyz[:, :self.num_joints],
            pred_vertices_coarse=coarse,
            pred_vertices_mid=mid,
            pred_vertices=self.mesh_sampler.upsample(mid, from_level=1, to_level=0))

    @staticmethod
    def _image_pos(encoding: SinePositionEncoding2D, h: int, w: int, num_tokens: int,
                   device: torch.device) -> Tensor:
        """(1, num_tokens, C): the sine encoding on tokens 1..hw (image), zeros elsewhere."""
        pe = encoding(h, w, device).flatten(1).t()
        pos = pe.new_zeros(1, num_tokens, pe.shape[1])
        pos[0, 1:1 + h * w] = pe
        return pos

    # ------------------------------------------------------------------ geometry
    def _regressor(self) -> Tensor:
        """The (17, V_fine) H36M regressor; raises when the head was built without it."""
        if self.h36m_regressor is None:
            raise RuntimeError('PostoMETROHead was built with joint_regressor=None (layout '
                               'only): root-relative meshes, losses and predictions need '
                               'J_regressor_h36m_correct.npy')
        return self.h36m_regressor

    def root_relative(self, preds: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Centre every predicted mesh on the H36M pelvis of the fine mesh.

        Returns:
            dict: ``vertices_coarse/mid/fine`` (B, V_l, 3) and ``mesh_joints`` (B, 14, 3) J14
            regressed from the fine mesh, all pelvis-relative.
        """
        pelvis, joints = pelvis_and_joints(preds['pred_vertices'], self._regressor())
        return dict(
            vertices_coarse=preds['pred_vertices_coarse'] - pelvis,
            vertices_mid=preds['pred_vertices_mid'] - pelvis,
            vertices_fine=preds['pred_vertices'] - pelvis,
            mesh_joints=joints)

    # ------------------------------------------------------------------ training
    def loss(self, feats: Feats, batch_data_samples: OptSampleList, train_cfg: ConfigType = {},
             pose_tokens: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Losses of SPEC §3 against the labels packed by ``PackMeshInputs``.

        Uses ``gt_instance_labels``: ``smpl_pose``, ``smpl_betas``, ``gender``, ``has_smpl``
        (ground-truth meshes by the body model), ``joints_3d`` (J24 + confidence), ``has_3d``,
        ``joints_2d`` (J24 in [-1, 1] + visibility), ``has_2d``.
        """
        preds = self.forward(feats, pose_tokens)
        pred = self.root_relative(preds)
        device = preds['pred_cam'].device
        has_smpl, has_3d, has_2d = (stack_labels(batch_data_samples, k, device).reshape(-1)
                                    for k in ('has_smpl', 'has_3d', 'has_2d'))
        joints_3d = stack_labels(batch_data_samples, 'joints_3d', device)[:, J24_TO_J14]
        joints_2d = stack_labels(batch_data_samples, 'joints_2d', device)[:, J24_TO_J14]
        gt_fine, gt_mid, gt_coarse = self.gt_meshes(batch_data_samples, has_smpl)

        token_joints = preds['pred_joints']
        token_joints = token_joints - token_joints[:, list(J14_HIP_INDICES)].mean(1, keepdim=True)
        cam = preds['pred_cam']
        losses = dict(
            loss_vertices=self.loss_vertices(
                [pred['vertices_coarse'], pred['vertices_mid'], pred['vertices_fine']],
                [gt_coarse, gt_mid, gt_fine], has_smpl),
            loss_joints_3d=(self.loss_joints_3d(token_joints, joints_3d, has_3d)
                            + self.loss_joints_3d(pred['mesh_joints'], joints_3d, has_3d)),
            loss_joints_2d=(
                self.loss_joints_2d(project_weak_perspective(token_joints, cam), joints_2d, has_2d)
                + self.loss_joints_2d(project_weak_perspective(pred['mesh_joints'], cam),
                                      joints_2d, has_2d)))
        if self.loss_edge is not None:
            losses['loss_edge'] = self.loss_edge(pred['vertices_mid'], gt_mid, self.mid_edges,
                                                 has_smpl)
        if self.loss_normal is not None:
            losses['loss_normal'] = self.loss_normal(pred['vertices_mid'], gt_mid,
                                                     self.mid_faces, has_smpl)
        return losses

    @torch.no_grad()
    def gt_meshes(self, batch_data_samples: OptSampleList,
                  has_smpl: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Ground-truth fine, middle and coarse meshes, centred on the fine mesh's H36M pelvis.

        Samples without SMPL labels get zeros (masked out by the losses).
        """
        device = has_smpl.device
        fine = self._regressor().new_zeros(len(has_smpl), self.num_vertices_fine, 3)
        valid = has_smpl > 0
        if valid.any():
            if self.body_model is None:
                raise RuntimeError('PostoMETROHead.loss needs ground-truth meshes: set '
                                   "body_model=dict(type='GenderedSMPL', model_path=...)")
            pose = stack_labels(batch_data_samples, 'smpl_pose', device)[valid]
            betas = stack_labels(batch_data_samples, 'smpl_betas', device)[valid]
            gender = stack_labels(batch_data_samples, 'gender', device).reshape(-1)[valid]
            fine[valid] = self.body_model(pose, betas, gender.long()).to(fine.dtype)
        pelvis = regress_joints(fine, self._regressor())[:, PELVIS]
        mid = self.mesh_sampler.downsample(fine, from_level=0, to_level=1)
        coarse = self.mesh_sampler.downsample(mid, from_level=1, to_level=2)
        return fine - pelvis, mid - pelvis, coarse - pelvis

    # ------------------------------------------------------------------ inference
    def predict(self, feats: Feats, batch_data_samples: OptSampleList, test_cfg: ConfigType = {},
                pose_tokens: Optional[Tensor] = None) -> List[InstanceData]:
        """Predictions per sample (numpy, leading instance axis 1): see
        :func:`mesh_predictions`."""
        preds = self.forward(feats, pose_tokens)
        return mesh_predictions(preds['pred_vertices'], preds['pred_cam'], self._regressor(),
                                batch_data_samples)


def mesh_predictions(vertices: Tensor, camera: Tensor, h36m_regressor: Tensor,
                     batch_data_samples: OptSampleList) -> List[InstanceData]:
    """The plugin's prediction contract from a mesh head's raw outputs (also used by the ONNX
    Runtime backend on the exported graph's outputs).

    Args:
        vertices (Tensor): (B, V, 3) predicted fine meshes, m, not root-relative.
        camera (Tensor): (B, 3) weak-perspective ``(s, tx, ty)``.
        h36m_regressor (Tensor): (17, V) H36M joint regressor of the fine mesh.
        batch_data_samples (list[PoseDataSample]): the samples, whose metainfo holds the crop
            (``input_size``, ``input_center``, ``input_scale``).

    Returns:
        list[InstanceData]: per sample (numpy, leading instance axis 1): ``vertices``
        (1, V, 3) and ``keypoints_3d`` (1, 14, 3) in metres relative to the H36M pelvis of the
        predicted mesh; ``camera`` (1, 3); ``keypoints`` (1, 14, 2) the projected J14 in
        original-image pixels (through the crop, as mmpose codecs do) with
        ``keypoint_scores`` (1, 14) of ones.
    """
    pelvis, joints = pelvis_and_joints(vertices, h36m_regressor)
    vertices = vertices - pelvis
    kpt_norm = project_weak_perspective(joints, camera).detach().cpu().numpy()
    vertices = vertices.detach().cpu().numpy()
    joints = joints.detach().cpu().numpy()
    camera = camera.detach().cpu().numpy()
    results = []
    for i, data_sample in enumerate(batch_data_samples):
        image_px = crop_to_image_px(kpt_norm[i], data_sample.metainfo, 'mesh_predictions')
        results.append(InstanceData(
            vertices=vertices[i:i + 1], keypoints_3d=joints[i:i + 1], camera=camera[i:i + 1],
            keypoints=image_px[None],
            keypoint_scores=np.ones((1, joints.shape[1]), dtype=np.float32)))
    return results


def _load_faces(path: str, num_vertices: int) -> np.ndarray:
    """(F, 3) int64 faces from a ``.npy`` file, checked against the mesh's vertex count."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'PostoMETROHead: mid_faces file "{path}" does not exist '
                                '(smpl_1723_faces.npy comes with the METRO/FastMETRO data)')
    faces = np.load(path).astype(np.int64)
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.min() < 0 or faces.max() >= num_vertices:
        raise ValueError(f'PostoMETROHead: mid_faces {path} must be (F, 3) indices into '
                         f'{num_vertices} vertices, got shape {faces.shape}')
    return faces
