"""Losses of FastMETRO / PostoMETRO (SPEC §3), in metres, all root-relative.

Every loss takes a per-sample validity mask (B,) and averages over the valid samples only; when
no sample is valid it returns a zero that still depends on the prediction, so the graph (and DDP
gradient synchronisation) stays intact.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpose.registry import MODELS


def _zero_like_loss(pred: Tensor) -> Tensor:
    return pred.sum() * 0.0


def _valid(valid: Tensor) -> Tensor:
    return valid.reshape(-1) > 0


def _edge_lengths(vertices: Tensor, edges: Tensor) -> Tensor:
    """(B, V, 3), (E, 2) → (B, E) lengths; the 1e-8 keeps the gradient finite at zero length."""
    diff = vertices[:, edges[:, 0]] - vertices[:, edges[:, 1]]
    return torch.sqrt((diff ** 2).sum(-1) + 1e-8)


@MODELS.register_module()
class MeshVertexL1Loss(nn.Module):
    """Weighted sum over mesh levels of the mean absolute vertex error.

    ``loss = loss_weight * Σ_l w_l * mean |pred_l - gt_l|`` over the valid samples, e.g. levels
    (coarse, middle, fine) with weights (0.25, 0.5, 0.25) as in FastMETRO.

    Args:
        level_weights (Sequence[float]): one weight per mesh level. Defaults to
            (0.25, 0.5, 0.25).
        loss_weight (float): global weight (paper α1). Defaults to 1000.
    """

    def __init__(self, level_weights: Sequence[float] = (0.25, 0.5, 0.25),
                 loss_weight: float = 1000.0) -> None:
        super().__init__()
        self.level_weights = tuple(float(w) for w in level_weights)
        self.loss_weight = loss_weight

    def forward(self, preds: Sequence[Tensor], targets: Sequence[Tensor], valid: Tensor) -> Tensor:
        """
        Args:
            preds (Sequence[Tensor]): per level (B, V_l, 3) predicted vertices.
            targets (Sequence[Tensor]): per level (B, V_l, 3) ground-truth vertices.
            valid (Tensor): (B,) 1 where the sample has a ground-truth mesh.
        """
        if not len(preds) == len(targets) == len(self.level_weights):
            raise ValueError(f'MeshVertexL1Loss: got {len(preds)} predictions and '
                             f'{len(targets)} targets for {len(self.level_weights)} level weights')
        mask = _valid(valid)
        if not mask.any():
            return _zero_like_loss(preds[0])
        loss = sum(w * F.l1_loss(p[mask], t[mask])
                   for w, p, t in zip(self.level_weights, preds, targets))
        return self.loss_weight * loss


@MODELS.register_module()
class Joint3DL1Loss(nn.Module):
    """Confidence-weighted L1 between 3D joints, both re-centred on their mid-hip.

    ``loss = loss_weight * mean_{valid b, j, xyz} c_bj |(P_bj - P_b,root) - (G_bj - G_b,root)|``
    with root = mean of the ``root_indices`` joints (J14 hips 2 and 3).

    Args:
        root_indices (Sequence[int]): joints averaged into the root. Defaults to (2, 3).
        loss_weight (float): weight (paper α2). Defaults to 1000.
    """

    def __init__(self, root_indices: Sequence[int] = (2, 3), loss_weight: float = 1000.0) -> None:
        super().__init__()
        self.root_indices = list(root_indices)
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, valid: Tensor) -> Tensor:
        """
        Args:
            pred (Tensor): (B, J, 3) predicted joints, m.
            target (Tensor): (B, J, 4) ground-truth joints, m, and confidence.
            valid (Tensor): (B,) 1 where the sample has 3D joints.
        """
        mask = _valid(valid)
        if not mask.any():
            return _zero_like_loss(pred)
        pred, target = pred[mask], target[mask]
        conf, gt = target[..., 3:], target[..., :3]
        pred = pred - pred[:, self.root_indices].mean(1, keepdim=True)
        gt = gt - gt[:, self.root_indices].mean(1, keepdim=True)
        return self.loss_weight * (conf * (pred - gt).abs()).mean()


@MODELS.register_module()
class Joint2DL1Loss(nn.Module):
    """Visibility-weighted L1 between 2D joints in normalised crop coordinates [-1, 1].

    ``loss = loss_weight * mean_{b, j, xy} valid_b v_bj |p_bj - g_bj|`` — averaged over the whole
    batch like FastMETRO (samples without 2D labels count with weight 0).

    Args:
        loss_weight (float): weight (paper α3). Defaults to 100.
    """

    def __init__(self, loss_weight: float = 100.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, valid: Tensor) -> Tensor:
        """
        Args:
            pred (Tensor): (B, J, 2) projected joints.
            target (Tensor): (B, J, 3) ground-truth x, y and visibility.
            valid (Tensor): (B,) 1 where the sample has 2D joints.
        """
        weight = target[..., 2:] * valid.reshape(-1, 1, 1).to(target.dtype)
        return self.loss_weight * (weight * (pred - target[..., :2]).abs()).mean()


@MODELS.register_module()
class MeshEdgeLengthLoss(nn.Module):
    """Edge-length losses of FastMETRO (after I2L-MeshNet) on one mesh level.

    ``loss = loss_weight * (gt_weight * mean |‖e_pred‖ - ‖e_gt‖| + self_weight * mean ‖e_pred‖)``
    over the valid samples' edges.

    Args:
        gt_weight (float): weight of the term against the ground-truth edge lengths. Defaults to 5.
        self_weight (float): weight of the predicted mean edge length (a shrinkage prior).
            Defaults to 1e-4.
        loss_weight (float): global weight. Defaults to 100.
    """

    def __init__(self, gt_weight: float = 5.0, self_weight: float = 1e-4,
                 loss_weight: float = 100.0) -> None:
        super().__init__()
        self.gt_weight = gt_weight
        self.self_weight = self_weight
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, edges: Tensor, valid: Tensor) -> Tensor:
        """
        Args:
            pred (Tensor): (B, V, 3) predicted vertices.
            target (Tensor): (B, V, 3) ground-truth vertices.
            edges (Tensor): (E, 2) int64 vertex index pairs of the mesh level.
            valid (Tensor): (B,) 1 where the sample has a ground-truth mesh.
        """
        mask = _valid(valid)
        if not mask.any():
            return _zero_like_loss(pred)
        pred_len = _edge_lengths(pred[mask], edges)
        gt_len = _edge_lengths(target[mask], edges)
        return self.loss_weight * (self.gt_weight * (pred_len - gt_len).abs().mean()
                                   + self.self_weight * pred_len.mean())


@MODELS.register_module()
class MeshNormalLoss(nn.Module):
    """Face-normal consistency of FastMETRO (after I2L-MeshNet) on one mesh level.

    For each face the ground-truth unit normal n is compared with the three unit edge directions
    of the predicted face: ``loss = loss_weight * mean |<ê_pred, n_gt>|``.

    Args:
        loss_weight (float): weight. Defaults to 10 (FastMETRO: 100 × 0.1).
    """

    def __init__(self, loss_weight: float = 10.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, faces: Tensor, valid: Tensor) -> Tensor:
        """
        Args:
            pred (Tensor): (B, V, 3) predicted vertices.
            target (Tensor): (B, V, 3) ground-truth vertices.
            faces (Tensor): (F, 3) int64 vertex indices of the mesh level.
            valid (Tensor): (B,) 1 where the sample has a ground-truth mesh.
        """
        mask = _valid(valid)
        if not mask.any():
            return _zero_like_loss(pred)
        p0, p1, p2 = self._corners(pred[mask], faces)
        g0, g1, g2 = self._corners(target[mask], faces)
        normal = F.normalize(torch.cross(F.normalize(g1 - g0, dim=-1),
                                         F.normalize(g2 - g0, dim=-1), dim=-1), dim=-1)
        cosines = [(F.normalize(e, dim=-1) * normal).sum(-1).abs()
                   for e in (p1 - p0, p2 - p0, p2 - p1)]
        return self.loss_weight * torch.cat(cosines, dim=1).mean()

    @staticmethod
    def _corners(vertices: Tensor, faces: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        return vertices[:, faces[:, 0]], vertices[:, faces[:, 1]], vertices[:, faces[:, 2]]
