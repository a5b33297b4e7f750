"""VQ-HPS head (Fiche et al., ECCV 2024): image tokens -> a transformer whose queries become the
discrete tokens of a frozen Mesh-VQ-VAE, decoded into a canonical mesh and turned by a predicted
global rotation."""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import Tensor, nn

from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptSampleList
from ...body_models.joint_regressors import load_joint_regressor, regress_joints
from ...body_models.joint_sets import H36M17_TO_J14, J24_TO_J14
from ...utils.rotations import axis_angle_to_matrix, rotation_6d_to_matrix
from ..layers import CausalTokenClassifier, PreNormTransformer, SinePositionEncoding2D
from .mesh_head_utils import PELVIS, crop_to_image_px, project_weak_perspective, stack_labels

Feats = Union[Tensor, Sequence[Tensor]]


@MODELS.register_module()
class VQHPSHead(BaseHead):
    """VQ-HPS: mesh tokens as a classification, rotation and camera by regression.

    Token branch: the pose backbone's map -> 1x1 conv (``conv_1x1``) -> image tokens with a 2D
    sine position encoding (any map size) -> pre-norm transformer encoder + decoder
    (``transformer``) whose queries are ``mesh_token_embed`` (one per mesh token, no query
    position) -> logits over the codebook, by a causal token classifier (``autoregressive``:
    ``transformer.dec_head`` of the reference, one parallel pass) or by a Linear on the decoder
    output concatenated with the predicted 6D rotation and camera (``indices_regressor``).
    ``argmax`` -> the frozen ``mesh_tokenizer``'s decoder -> canonical mesh (vertex-mean
    centred, no global orientation).

    Rotation branch: the rotation backbone's map, average-pooled, concatenated with the 17 H36M
    joints of the body model's rest pose (``init_pose``, m) -> ``fc1`` -> dropout -> ``fc2`` ->
    dropout (no nonlinearity, as the reference) -> ``rot_predictor`` (6D rotation) and
    ``cam_predictor`` (weak-perspective ``(s, tx, ty)``). The predicted mesh is the canonical
    mesh rotated by the 6D rotation (no translation).

    Losses (weights 1 in the reference): cross-entropy of the logits against the frozen
    tokenizer's tokens of the ground-truth canonical mesh (``loss_tokens``); MSE between the
    predicted and ground-truth global rotation matrices (``loss_rotation``); the
    visibility-weighted L1 of the projected J14 of the predicted mesh against the 2D labels
    (``loss_joints_2d``, the plugin's J14 in place of the reference's 24 SMPL / 17 H36M
    joints). The decoded mesh carries no gradient (argmax), so the 2D loss trains only the
    rotation and camera. ``acc_tokens`` (token accuracy) is logged.

    Args:
        in_channels (int): channels of the pose backbone's map (2048 ResNet-50, 720 HRNet-W48
            with its downsampled branches).
        rot_in_channels (int): channels of the rotation backbone's map.
        mesh_tokenizer (dict): config of the frozen :class:`MeshVQVAE` (its ``init_cfg`` loads
            its checkpoint); its tokens and codebook size set the query and logit counts.
        joint_regressor (str, optional): ``J_regressor_h36m_correct.npy`` (17, V): the rest-pose
            input of the rotation branch, J14 and the pelvis. None builds the head for a
            parameter layout only (e.g. a converter's key check): :meth:`forward` raises.
        body_model (dict, optional): ``GenderedSMPL`` config: the rest pose and the ground-truth
            meshes of :meth:`loss`.
        embed_dims (int): transformer width. Default: 512.
        num_heads (int): attention heads. Default: 8.
        feedforward_channels (int): FFN width (also the causal classifier's MLP). Default: 1024.
        num_encoder_layers / num_decoder_layers (int): transformer depth (causal blocks =
            decoder layers). Default: 1 / 1.
        dropout (float): transformer dropout. Default: 0.2.
        autoregressive (bool): causal token classifier (the released models) or the Linear
            ``indices_regressor``. Default: True.
        rot_hidden_channels (int): width of ``fc1`` / ``fc2``. Default: 1024.
        rot_dropout (float): dropout after ``fc1`` and ``fc2``. Default: 0.5.
        loss_tokens_weight / loss_rotation_weight (float): weights. Default: 1.
        loss_joints_2d (dict): 2D loss config. Default: ``Joint2DL1Loss`` with weight 1.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 in_channels: int,
                 rot_in_channels: int,
                 mesh_tokenizer: ConfigType,
                 joint_regressor: Optional[str],
                 body_model: OptConfigType = None,
                 embed_dims: int = 512,
                 num_heads: int = 8,
                 feedforward_channels: int = 1024,
                 num_encoder_layers: int = 1,
                 num_decoder_layers: int = 1,
                 dropout: float = 0.2,
                 autoregressive: bool = True,
                 rot_hidden_channels: int = 1024,
                 rot_dropout: float = 0.5,
                 loss_tokens_weight: float = 1.0,
                 loss_rotation_weight: float = 1.0,
                 loss_joints_2d: ConfigType = dict(type='Joint2DL1Loss', loss_weight=1.0),
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.mesh_tokenizer = MODELS.build(mesh_tokenizer)
        self.mesh_tokenizer.requires_grad_(False)
        self.mesh_tokenizer.eval()
        self.num_tokens = self.mesh_tokenizer.num_tokens
        self.num_codes = self.mesh_tokenizer.quantizer.num_codes
        self.autoregressive = autoregressive
        with torch.device('cpu'):  # files go to the CPU, also when built on the meta device
            self.body_model = MODELS.build(body_model) if body_model is not None else None
            self._set_fixed_joints(joint_regressor)

        self.conv_1x1 = nn.Conv2d(in_channels, embed_dims, kernel_size=1)
        self.position_encoding = SinePositionEncoding2D(embed_dims // 2)
        self.transformer = PreNormTransformer(
            embed_dims, num_heads, feedforward_channels, num_encoder_layers,
            num_decoder_layers, dropout)
        self.mesh_token_embed = nn.Embedding(self.num_tokens, embed_dims)
        if autoregressive:
            self.token_classifier = CausalTokenClassifier(
                embed_dims, self.num_codes, num_heads, feedforward_channels,
                num_decoder_layers, dropout)
            for p in self.token_classifier.parameters():  # as the reference's transformer
                if p.dim() > 1:
                    nn.init.xavier_uniform_(p)
        else:
            self.indices_regressor = nn.Linear(embed_dims + 6 + 3, self.num_codes)

        self.fc1 = nn.Linear(rot_in_channels + 17 * 3, rot_hidden_channels)
        self.fc2 = nn.Linear(rot_hidden_channels, rot_hidden_channels)
        self.rot_dropout = nn.Dropout(rot_dropout)
        self.rot_predictor = nn.Linear(rot_hidden_channels, 6)
        self.cam_predictor = nn.Linear(rot_hidden_channels, 3)

        self.loss_tokens_weight = loss_tokens_weight
        self.loss_rotation_weight = loss_rotation_weight
        self.loss_joints_2d = MODELS.build(loss_joints_2d)

    def _set_fixed_joints(self, joint_regressor: Optional[str]) -> None:
        """The H36M regressor and the rest-pose joints (non-persistent buffers)."""
        self.h36m_regressor = None
        init_pose = torch.zeros(17 * 3)
        if joint_regressor is not None:
            self.h36m_regressor = load_joint_regressor(joint_regressor).float()
            if self.body_model is not None:
                with torch.no_grad():
                    rest = self.body_model(torch.zeros(1, 72), torch.zeros(1, 10),
                                           torch.zeros(1, dtype=torch.long))
                init_pose = regress_joints(rest, self.h36m_regressor).reshape(-1)
        self.register_buffer('init_pose', init_pose, persistent=False)
        self.has_init_pose = joint_regressor is not None and self.body_model is not None

    def _regressor(self) -> Tensor:
        if self.h36m_regressor is None:
            raise RuntimeError('VQHPSHead was built with joint_regressor=None (layout only): '
                               'its outputs need J_regressor_h36m_correct.npy')
        return self.h36m_regressor.to(self.init_pose.device)

    def train(self, mode: bool = True) -> 'VQHPSHead':
        """Switch mode; the frozen mesh tokenizer stays in eval mode."""
        super().train(mode)
        self.mesh_tokenizer.eval()
        return self

    # ------------------------------------------------------------------ forward
    def forward(self, feats: Feats, rot_feats: Tensor) -> Dict[str, Tensor]:
        """
        Args:
            feats: the pose backbone's maps (the last is used), (B, in_channels, h, w).
            rot_feats (Tensor): the rotation backbone's map (B, rot_in_channels, h', w').

        Returns:
            dict: ``logits`` (B, T, K), ``rot6d`` (B, 6), ``rotmat`` (B, 3, 3), ``camera``
            (B, 3) = (s, tx, ty).
        """
        if not self.has_init_pose:
            raise RuntimeError('VQHPSHead.forward needs the rest pose: build it with '
                               'joint_regressor and body_model')
        x = feats[-1] if isinstance(feats, (list, tuple)) else feats
        batch, _, height, width = x.shape
        src = self.conv_1x1(x).flatten(2).transpose(1, 2)
        pos = self.position_encoding(height, width, x.device).flatten(1).t()[None].to(src.dtype)
        queries = self.mesh_token_embed.weight[None].expand(batch, -1, -1)
        _, tokens = self.transformer(src, queries, src_pos=pos, num_prefix_tokens=0)

        pooled = rot_feats.mean(dim=(2, 3))
        hidden = torch.cat([pooled, self.init_pose[None].expand(batch, -1).to(pooled)], dim=1)
        hidden = self.rot_dropout(self.fc2(self.rot_dropout(self.fc1(hidden))))
        rot6d, camera = self.rot_predictor(hidden), self.cam_predictor(hidden)
        if self.autoregressive:
            logits = self.token_classifier(tokens)
        else:
            extra = torch.cat([rot6d, camera], dim=1)[:, None].expand(-1, self.num_tokens, -1)
            logits = self.indices_regressor(torch.cat([tokens, extra], dim=-1))
        return dict(logits=logits, rot6d=rot6d, rotmat=rotation_6d_to_matrix(rot6d),
                    camera=camera)

    @torch.no_grad()
    def canonical_meshes(self, logits: Tensor) -> Tensor:
        """(B, T, K) logits -> argmax tokens -> (B, V, 3) canonical meshes (no gradient)."""
        return self.mesh_tokenizer.decode(logits.argmax(dim=-1))

    def posed(self, canonical: Tensor, rotmat: Tensor) -> Dict[str, Tensor]:
        """Rotate canonical meshes and centre them on their H36M pelvis.

        Returns:
            dict: ``vertices`` (B, V, 3) and ``joints`` (B, 14, 3) pelvis-relative, m;
            ``joints_rotated`` (B, 14, 3) J14 of the rotated mesh before centring (what the
            reference projects).
        """
        vertices = canonical @ rotmat.transpose(1, 2)
        h36m = regress_joints(vertices, self._regressor())
        pelvis = h36m[:, PELVIS]
        return dict(vertices=vertices - pelvis, joints=h36m[:, H36M17_TO_J14] - pelvis,
                    joints_rotated=h36m[:, H36M17_TO_J14])

    # ------------------------------------------------------------------ training
    @torch.no_grad()
    def gt_tokens(self, batch_data_samples: OptSampleList, valid: Tensor) -> Tensor:
        """Tokens of the valid samples' ground-truth canonical meshes (zero global orientation),
        by the frozen tokenizer: (n_valid, T) int64."""
        if self.body_model is None:
            raise RuntimeError('VQHPSHead.loss needs ground-truth meshes: set '
                               "body_model=dict(type='GenderedSMPL', model_path=...)")
        device = valid.device
        pose = stack_labels(batch_data_samples, 'smpl_pose', device)[valid].clone()
        pose[:, :3] = 0
        betas = stack_labels(batch_data_samples, 'smpl_betas', device)[valid]
        gender = stack_labels(batch_data_samples, 'gender', device).reshape(-1)[valid]
        return self.mesh_tokenizer.encode(self.body_model(pose, betas, gender.long()))

    def loss(self, feats: Feats, rot_feats: Tensor, batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> Dict[str, Tensor]:
        """Losses against ``gt_instance_labels`` (``smpl_pose``, ``smpl_betas``, ``gender``,
        ``has_smpl``, ``joints_2d``, ``has_2d``) packed by ``PackMeshInputs``."""
        preds = self.forward(feats, rot_feats)
        logits, rotmat = preds['logits'], preds['rotmat']
        device = logits.device
        has_smpl, has_2d = (stack_labels(batch_data_samples, k, device).reshape(-1)
                            for k in ('has_smpl', 'has_2d'))
        valid = has_smpl > 0
        losses = dict(loss_tokens=logits.sum() * 0, loss_rotation=rotmat.sum() * 0,
                      acc_tokens=logits.new_zeros(()))
        if valid.any():
            tokens = self.gt_tokens(batch_data_samples, valid)
            valid_logits = logits[valid]
            losses['loss_tokens'] = self.loss_tokens_weight * F.cross_entropy(
                valid_logits.flatten(0, 1), tokens.flatten())
            losses['acc_tokens'] = (valid_logits.argmax(-1) == tokens).float().mean()
            gt_rotmat = axis_angle_to_matrix(
                stack_labels(batch_data_samples, 'smpl_pose', device)[valid, :3])
            losses['loss_rotation'] = self.loss_rotation_weight * F.mse_loss(
                rotmat[valid], gt_rotmat.to(rotmat))
        joints_2d = stack_labels(batch_data_samples, 'joints_2d', device)[:, J24_TO_J14]
        joints = self.posed(self.canonical_meshes(logits), rotmat)['joints_rotated']
        losses['loss_joints_2d'] = self.loss_joints_2d(
            project_weak_perspective(joints, preds['camera']), joints_2d, has_2d)
        return losses

    # ------------------------------------------------------------------ inference
    def predict(self, feats: Feats, rot_feats: Tensor, batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> List[InstanceData]:
        """Predictions per sample (numpy, leading instance axis 1) in the plugin's contract:
        ``vertices`` (1, V, 3) and ``keypoints_3d`` (1, 14, 3) relative to the predicted
        mesh's H36M pelvis, m; ``camera`` (1, 3) = (s, tx, ty); ``keypoints`` (1, 14, 2) the
        projected J14 in original-image px with ``keypoint_scores`` (1, 14) of ones; and
        ``token_indices`` (1, T) int64 and ``token_probs`` (1, T, K) (softmax of the logits).
        """
        preds = self.forward(feats, rot_feats)
        posed = self.posed(self.canonical_meshes(preds['logits']), preds['rotmat'])
        kpt_norm = project_weak_perspective(posed['joints_rotated'], preds['camera'])
        arrays = dict(vertices=posed['vertices'], keypoints_3d=posed['joints'],
                      camera=preds['camera'], kpt_norm=kpt_norm,
                      token_indices=preds['logits'].argmax(-1),
                      token_probs=preds['logits'].softmax(-1))
        arrays = {k: v.detach().cpu().numpy() for k, v in arrays.items()}
        results = []
        for i, data_sample in enumerate(batch_data_samples):
            image_px = crop_to_image_px(arrays['kpt_norm'][i], data_sample.metainfo,
                                        'VQHPSHead.predict')
            results.append(InstanceData(
                vertices=arrays['vertices'][i:i + 1], keypoints_3d=arrays['keypoints_3d'][i:i + 1],
                camera=arrays['camera'][i:i + 1], keypoints=image_px[None],
                keypoint_scores=np.ones((1, image_px.shape[0]), dtype=np.float32),
                token_indices=arrays['token_indices'][i:i + 1],
                token_probs=arrays['token_probs'][i:i + 1]))
        return results
