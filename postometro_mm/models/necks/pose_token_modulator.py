"""PostoMETRO's pose modulator: 2D pose tokens (and their scores) → transformer tokens."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpose.registry import MODELS
from ..layers import MixerLayer

MODULATORS = ('mixer', 'linear')


@MODELS.register_module()
class PoseTokenModulator(BaseModule):
    """Pose modulator ("mixer neck") of PostoMETRO (SPEC §1).

    ``start_embed`` (Linear C_in→hidden) → ``num_blocks`` MixerLayers over the N tokens
    (``modulator='mixer'``) or none (``modulator='linear'``, paper Table 7) → LayerNorm
    (``norm``) → Linear N→N across tokens (``token_mlp``) → concatenate the per-token score →
    ``score_fusion`` = Linear (hidden+1)→out, LayerNorm, ReLU.

    Token sources (paper Tables 6 and 11):
      * PCT pose tokens: ``in_channels=512, num_tokens=34``; score = max raw classifier logit
        per token (or a constant 10 for ground-truth tokens).
      * raw 2D keypoints: ``in_channels=2, num_tokens=17``; features are COCO-17 coordinates
        normalised to [-1, 1] over the crop, score = keypoint visibility/confidence.

    Args:
        in_channels (int): channels of each input token. Defaults to 512.
        num_tokens (int): number of tokens N. Defaults to 34.
        hidden_dims (int): width inside the modulator. Defaults to 512.
        hidden_inter_dims (int): channel-MLP width of each MixerLayer. Defaults to 512.
        token_inter_dims (int): token-MLP width of each MixerLayer. Defaults to 64.
        num_blocks (int): MixerLayers (paper Table 8: 4 is best). Must be 0 for 'linear'.
            Defaults to 4.
        out_channels (int): output token width (transformer-1 width). Defaults to 512.
        dropout (float): dropout inside the MixerLayers. Defaults to 0.
        modulator (str): 'mixer' or 'linear'. Defaults to 'mixer'.
        init_cfg (dict, optional): mmengine init config.

    Shapes:
        pose_feats (B, N, in_channels), pose_scores (B, N, 1) → (B, N, out_channels).
    """

    def __init__(self, in_channels: int = 512, num_tokens: int = 34, hidden_dims: int = 512,
                 hidden_inter_dims: int = 512, token_inter_dims: int = 64, num_blocks: int = 4,
                 out_channels: int = 512, dropout: float = 0.0, modulator: str = 'mixer',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if modulator not in MODULATORS:
            raise ValueError(f'PoseTokenModulator: modulator must be one of {MODULATORS}, '
                             f'got {modulator!r}')
        if modulator == 'linear' and num_blocks:
            raise ValueError('PoseTokenModulator: modulator="linear" has no MixerLayers; set '
                             f'num_blocks=0 (got {num_blocks})')
        if modulator == 'mixer' and num_blocks < 1:
            raise ValueError(f'PoseTokenModulator: modulator="mixer" needs num_blocks >= 1, '
                             f'got {num_blocks}')
        self.in_channels = in_channels
        self.num_tokens = num_tokens
        self.out_channels = out_channels
        self.start_embed = nn.Linear(in_channels, hidden_dims)
        self.mixers = nn.ModuleList(
            MixerLayer(hidden_dims, hidden_inter_dims, num_tokens, token_inter_dims, dropout)
            for _ in range(num_blocks))
        self.norm = nn.LayerNorm(hidden_dims)
        self.token_mlp = nn.Linear(num_tokens, num_tokens)
        self.score_fusion = nn.Sequential(
            nn.Linear(hidden_dims + 1, out_channels), nn.LayerNorm(out_channels),
            nn.ReLU(inplace=True))

    def forward(self, pose_feats: Tensor, pose_scores: Tensor) -> Tensor:
        if pose_feats.dim() != 3 or pose_feats.shape[1:] != (self.num_tokens, self.in_channels):
            raise ValueError(
                f'PoseTokenModulator: pose_feats must be (B, {self.num_tokens}, '
                f'{self.in_channels}), got {tuple(pose_feats.shape)}')
        if pose_scores.shape != (*pose_feats.shape[:2], 1):
            raise ValueError(f'PoseTokenModulator: pose_scores must be '
                             f'{(*pose_feats.shape[:2], 1)}, got {tuple(pose_scores.shape)}')
        x = self.start_embed(pose_feats)
        for mixer in self.mixers:
            x = mixer(x)
        x = self.token_mlp(self.norm(x).transpose(1, 2)).transpose(1, 2)
        return self.score_fusion(torch.cat([x, pose_scores.to(x.dtype)], dim=-1))
