"""PCT stage 1: a VQ-VAE that turns a 2D pose into compositional tokens and back."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpose.registry import MODELS
from ..layers import EMAVectorQuantizer, MixerLayer


def sample_features_at_keypoints(feature_map: Tensor, keypoints: Tensor,
                                 input_size: Sequence[int]) -> Tensor:
    """Feature vector of the feature-map cell nearest to each keypoint.

    Cell ``(⌊y/s_y + 0.5⌋, ⌊x/s_x + 0.5⌋)`` clamped to the map, with ``s = input_size / map
    size`` (PCT's rule: no bilinear interpolation).

    Args:
        feature_map (Tensor): (B, C, h, w).
        keypoints (Tensor): (B, K, 2) x, y in input (crop) pixels.
        input_size (Sequence[int]): (W, H) of the input image.

    Returns:
        Tensor: (B, K, C).
    """
    b, c, h, w = feature_map.shape
    col = torch.floor(keypoints[..., 0] / (input_size[0] / w) + 0.5).long().clamp(0, w - 1)
    row = torch.floor(keypoints[..., 1] / (input_size[1] / h) + 0.5).long().clamp(0, h - 1)
    index = (row * w + col).unsqueeze(1).expand(-1, c, -1)  # B, C, K
    return feature_map.flatten(2).gather(2, index).transpose(1, 2)


@MODELS.register_module()
class PCTTokenizer(BaseModule):
    """Pose Compositional Tokens tokenizer (Geng et al., CVPR 2023).

    Encoder: keypoints (B, K, 2) → Linear(2 → D_e·(1-g)) [‖ Linear(C_img → D_e·g) of the image
    feature at each keypoint] → invisible joints (and, in training, a random ``drop_rate`` of the
    visible ones) replaced by a learned ``invisible_token`` → ``enc_num_blocks`` MixerLayers →
    LayerNorm → Linear K→N across tokens → Linear D_e→D. Quantiser: :class:`EMAVectorQuantizer`.
    Decoder: Linear N→K across tokens → Linear D→D_d → ``dec_num_blocks`` MixerLayers → LayerNorm
    → Linear D_d→2.

    Module names are PCT's (``start_embed``, ``encoder``, ``token_mlp`` …) except the codebook
    buffers, which live in ``quantizer``, and the MLPs inside each MixerLayer
    (``token_mlp``/``channel_mlp`` for PCT's ``MLP_token.ff``/``MLP_channel.ff``); see
    :mod:`postometro_mm.models.converters.pct`.

    Args:
        num_keypoints (int): K. PCT: 17 (COCO).
        num_tokens (int): N. PCT: 34.
        num_codes (int): codebook size V. PCT: 2048.
        code_dims (int): D. PCT: 512.
        input_size (Sequence[int]): (W, H) of the crop the keypoints live in (image guidance).
        guide_ratio (float): g, share of the encoder width fed by image features (0 = none).
        guide_channels (int): C_img of the image feature map (needed when g > 0).
        drop_rate (float): share of visible joints masked in training. PCT: 0.2.
        enc_hidden_dims, enc_hidden_inter_dims, enc_token_inter_dims, enc_num_blocks,
        enc_dropout: encoder MixerLayer sizes. PCT: 512, 512, 64, 4, 0.
        dec_hidden_dims, dec_hidden_inter_dims, dec_token_inter_dims, dec_num_blocks,
        dec_dropout: decoder MixerLayer sizes. PCT: 32, 64, 64, 1, 0.
        ema_decay (float): codebook EMA decay. PCT: 0.9.
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained', checkpoint=stage-1 ckpt,
            prefix='head.tokenizer.')``.
    """

    def __init__(self, num_keypoints: int = 17, num_tokens: int = 34, num_codes: int = 2048,
                 code_dims: int = 512, input_size: Sequence[int] = (256, 256),
                 guide_ratio: float = 0.0, guide_channels: int = 0, drop_rate: float = 0.2,
                 enc_hidden_dims: int = 512, enc_hidden_inter_dims: int = 512,
                 enc_token_inter_dims: int = 64, enc_num_blocks: int = 4,
                 enc_dropout: float = 0.0, dec_hidden_dims: int = 32,
                 dec_hidden_inter_dims: int = 64, dec_token_inter_dims: int = 64,
                 dec_num_blocks: int = 1, dec_dropout: float = 0.0, ema_decay: float = 0.9,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not 0.0 <= guide_ratio < 1.0:
            raise ValueError(f'PCTTokenizer: guide_ratio must lie in [0, 1), got {guide_ratio}')
        if guide_ratio > 0 and guide_channels <= 0:
            raise ValueError('PCTTokenizer: guide_ratio > 0 needs guide_channels > 0 (channels '
                             'of the backbone feature map)')
        self.num_keypoints = num_keypoints
        self.num_tokens = num_tokens
        self.code_dims = code_dims
        self.input_size = tuple(input_size)
        self.guide_ratio = guide_ratio
        self.drop_rate = drop_rate

        self.invisible_token = nn.Parameter(torch.zeros(1, 1, enc_hidden_dims))
        img_dims = int(enc_hidden_dims * guide_ratio)
        if guide_ratio > 0:
            self.start_img_embed = nn.Linear(guide_channels, img_dims)
        self.start_embed = nn.Linear(2, int(enc_hidden_dims * (1 - guide_ratio)))
        if self.start_embed.out_features + img_dims != enc_hidden_dims:
            raise ValueError(f'PCTTokenizer: enc_hidden_dims={enc_hidden_dims} cannot be split '
                             f'by guide_ratio={guide_ratio} into integer widths')
        self.encoder = nn.ModuleList([
            MixerLayer(enc_hidden_dims, enc_hidden_inter_dims, num_keypoints,
                       enc_token_inter_dims, enc_dropout) for _ in range(enc_num_blocks)])
        self.encoder_layer_norm = nn.LayerNorm(enc_hidden_dims)
        self.token_mlp = nn.Linear(num_keypoints, num_tokens)
        self.feature_embed = nn.Linear(enc_hidden_dims, code_dims)

        self.quantizer = EMAVectorQuantizer(num_codes, code_dims, decay=ema_decay)

        self.decoder_token_mlp = nn.Linear(num_tokens, num_keypoints)
        self.decoder_start = nn.Linear(code_dims, dec_hidden_dims)
        self.decoder = nn.ModuleList([
            MixerLayer(dec_hidden_dims, dec_hidden_inter_dims, num_keypoints,
                       dec_token_inter_dims, dec_dropout) for _ in range(dec_num_blocks)])
        self.decoder_layer_norm = nn.LayerNorm(dec_hidden_dims)
        self.recover_embed = nn.Linear(dec_hidden_dims, 2)

    @property
    def guided(self) -> bool:
        """Whether the encoder uses image features."""
        return self.guide_ratio > 0

    def init_weights(self) -> None:
        """``invisible_token`` ~ N(0, 0.02²) truncated at ±0.02 (PCT); then ``init_cfg``."""
        if not self.is_init:
            nn.init.trunc_normal_(self.invisible_token, std=0.02, a=-0.02, b=0.02)
        super().init_weights()

    def encode(self, keypoints: Tensor, keypoints_visible: Tensor,
               feature_map: Optional[Tensor] = None) -> Tensor:
        """Continuous token features before quantisation.

        Args:
            keypoints (Tensor): (B, K, 2) crop pixels.
            keypoints_visible (Tensor): (B, K), > 0 = visible.
            feature_map (Tensor, optional): (B, C_img, h, w) backbone features; required iff
                the tokenizer is guided.

        Returns:
            Tensor: (B, N, D).
        """
        if keypoints.shape[1:] != (self.num_keypoints, 2):
            raise ValueError(f'PCTTokenizer.encode: keypoints must be (B, {self.num_keypoints}, '
                             f'2), got {tuple(keypoints.shape)}')
        feats = self.start_embed(keypoints)
        if self.guided:
            if feature_map is None:
                raise ValueError('PCTTokenizer.encode: this tokenizer uses image guidance '
                                 f'(guide_ratio={self.guide_ratio}); pass feature_map')
            joint_feats = sample_features_at_keypoints(feature_map, keypoints, self.input_size)
            feats = torch.cat([feats, self.start_img_embed(joint_feats.to(feats.dtype))], dim=2)
        visible = keypoints_visible > 0
        if self.training and self.drop_rate > 0:
            visible = visible & (torch.rand(visible.shape, device=visible.device)
                                 > self.drop_rate)
        w = visible.unsqueeze(-1).to(feats.dtype)
        feats = feats * w + self.invisible_token * (1 - w)
        for layer in self.encoder:
            feats = layer(feats)
        feats = self.encoder_layer_norm(feats)
        feats = self.token_mlp(feats.transpose(1, 2)).transpose(1, 2)
        return self.feature_embed(feats)

    def decode(self, token_feats: Tensor) -> Tensor:
        """Keypoints from token features.

        Args:
            token_feats (Tensor): (B, N, D) codes (or probability-weighted codes).

        Returns:
            Tensor: (B, K, 2) crop pixels.
        """
        feats = self.decoder_token_mlp(token_feats.transpose(1, 2)).transpose(1, 2)
        feats = self.decoder_start(feats)
        for layer in self.decoder:
            feats = layer(feats)
        return self.recover_embed(self.decoder_layer_norm(feats))

    def tokenize(self, keypoints: Tensor, keypoints_visible: Tensor,
                 feature_map: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Ground-truth tokens of a pose, without touching the codebook.

        Returns:
            tuple: codes (B, N, D) (codebook rows) and indices (B, N) int64.
        """
        indices = self.quantizer.nearest(self.encode(keypoints, keypoints_visible, feature_map))
        return self.quantizer.lookup(indices), indices

    def forward(self, keypoints: Tensor, keypoints_visible: Tensor,
                feature_map: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Encode, quantise (EMA codebook update in training mode) and decode.

        Returns:
            dict: ``keypoints`` (B, K, 2) reconstruction in crop pixels, ``indices`` (B, N),
            ``latent_loss`` scalar.
        """
        encoded = self.encode(keypoints, keypoints_visible, feature_map)
        quantized, indices, latent_loss = self.quantizer(encoded)
        return dict(keypoints=self.decode(quantized), indices=indices, latent_loss=latent_loss)
