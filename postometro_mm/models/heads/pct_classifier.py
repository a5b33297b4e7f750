"""PCT stage 2: classify each pose token from the backbone's stride-32 feature map."""
from typing import Optional, Sequence, Tuple, Union

from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpose.models.backbones.resnet import BasicBlock
from mmpose.registry import MODELS
from ..layers import MixerLayer


def _linear_ln_relu(in_features: int, out_features: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_features, out_features), nn.LayerNorm(out_features),
                         nn.ReLU(inplace=True))


@MODELS.register_module()
class PCTClassifier(BaseModule):
    """Token classifier of PCT.

    Conv1×1 C→C_c + BN + ReLU → ``conv_num_blocks`` ResNet BasicBlocks → flatten the (h·w, C_c)
    map → Linear(h·w·C_c → N·D_h) + LN + ReLU → reshape (N, D_h) → ``num_blocks`` MixerLayers →
    Linear D_h→D_h + LN + ReLU → Linear D_h→V.

    Args:
        in_channels (int): C of the backbone map (PCT-Base 1024).
        input_size (Sequence[int]): (W, H) of the input image; the map is (H/32, W/32).
        num_tokens (int): N (34).
        num_codes (int): V, codebook size (2048).
        conv_channels (int): C_c (256).
        conv_num_blocks (int): BasicBlocks (2).
        hidden_dims (int): D_h (64).
        hidden_inter_dims (int): MixerLayer channel-MLP width (256).
        token_inter_dims (int): MixerLayer token-MLP width (64).
        num_blocks (int): MixerLayers (4).
        dropout (float): MixerLayer dropout (0).
        feat_stride (int): backbone stride (32).

    Shapes:
        input (B, C, H/32, W/32) or a tuple whose last element is that map -> logits (B, N, V).
    """

    def __init__(self, in_channels: int, input_size: Sequence[int] = (256, 256),
                 num_tokens: int = 34, num_codes: int = 2048, conv_channels: int = 256,
                 conv_num_blocks: int = 2, hidden_dims: int = 64, hidden_inter_dims: int = 256,
                 token_inter_dims: int = 64, num_blocks: int = 4, dropout: float = 0.0,
                 feat_stride: int = 32, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if input_size[0] % feat_stride or input_size[1] % feat_stride:
            raise ValueError(f'PCTClassifier: input_size={tuple(input_size)} must be divisible '
                             f'by feat_stride={feat_stride}')
        self.feat_hw = (input_size[1] // feat_stride, input_size[0] // feat_stride)
        self.num_tokens = num_tokens
        self.hidden_dims = hidden_dims
        self.input_proj = nn.Sequential(
            nn.Conv2d(in_channels, conv_channels, 1, bias=False), nn.BatchNorm2d(conv_channels),
            nn.ReLU(inplace=True))
        self.res_blocks = nn.Sequential(*[
            BasicBlock(conv_channels, conv_channels) for _ in range(conv_num_blocks)])
        self.token_proj = _linear_ln_relu(conv_channels * self.feat_hw[0] * self.feat_hw[1],
                                          num_tokens * hidden_dims)
        self.mixers = nn.ModuleList([
            MixerLayer(hidden_dims, hidden_inter_dims, num_tokens, token_inter_dims, dropout)
            for _ in range(num_blocks)])
        self.token_norm = _linear_ln_relu(hidden_dims, hidden_dims)
        self.cls_pred = nn.Linear(hidden_dims, num_codes)

    def forward(self, feats: Union[Tensor, Tuple[Tensor, ...]]) -> Tensor:
        x = feats[-1] if isinstance(feats, (tuple, list)) else feats
        if tuple(x.shape[2:]) != self.feat_hw:
            raise ValueError(f'PCTClassifier: expected a feature map of size {self.feat_hw} '
                             f'(input_size / 32), got {tuple(x.shape[2:])}')
        x = self.res_blocks(self.input_proj(x))
        x = self.token_proj(x.flatten(2).transpose(1, 2).flatten(1))
        x = x.view(-1, self.num_tokens, self.hidden_dims)
        for mixer in self.mixers:
            x = mixer(x)
        return self.cls_pred(self.token_norm(x))
