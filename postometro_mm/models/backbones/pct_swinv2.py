"""The SwinV2 variant that PCT (Geng et al., CVPR 2023) uses as its image backbone.

It differs from mmpretrain's SwinV2 in ways that change both the numbers and the checkpoint keys:
post-norm residual blocks, cosine multi-head attention with a learned per-head temperature
(``logit_scale``), a relative-position MLP (``rpe_mlp``) over log-spaced coordinates normalised by
the *pretraining* window size, a ``16·sigmoid`` bias, no window clamping (feature maps are padded
to a multiple of the window instead), and one LayerNorm ``norm{i}`` per output stage.

Parameter and buffer names are those of PCT's ``SwinV2TransformerRPE2FC``, so a released PCT
checkpoint's ``backbone.*`` (or ``extra_backbone.*``) tensors load unchanged under ``backbone.``
(see :mod:`postometro_mm.models.converters.pct`).
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpose.registry import MODELS

_LN_EPS = 1e-6
_MAX_LOGIT_SCALE = math.log(1.0 / 0.01)


def _window_partition(x: Tensor, window_size: int) -> Tensor:
    """(B, H, W, C) -> (B·nW, ws·ws, C); H and W must be multiples of ``window_size``."""
    b, h, w, c = x.shape
    x = x.view(b, h // window_size, window_size, w // window_size, window_size, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window_size * window_size, c)


def _window_merge(windows: Tensor, window_size: int, h: int, w: int) -> Tensor:
    """Inverse of :func:`_window_partition`: (B·nW, ws·ws, C) -> (B, H, W, C)."""
    c = windows.shape[-1]
    x = windows.view(-1, h // window_size, w // window_size, window_size, window_size, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, h, w, c)


def _shifted_window_mask(h: int, w: int, window_size: int, shift: int,
                         device: torch.device) -> Tensor:
    """Additive attention mask (nW, ws², ws²) with -100 between tokens of different regions."""
    region = torch.zeros((1, h, w, 1), device=device)
    bounds = (slice(0, -window_size), slice(-window_size, -shift), slice(-shift, None))
    label = 0
    for hs in bounds:
        for ws in bounds:
            region[:, hs, ws, :] = label
            label += 1
    region = _window_partition(region, window_size).squeeze(-1)
    diff = region.unsqueeze(1) - region.unsqueeze(2)
    return diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)


class PCTPatchEmbed(nn.Module):
    """Non-overlapping patch embedding: Conv(p×p, stride p) then LayerNorm.

    Shapes:
        input (B, C_in, H, W) -> output (B, C, ceil(H/p), ceil(W/p)); the image is zero-padded
        on the right/bottom to a multiple of ``patch_size``.
    """

    def __init__(self, in_channels: int, embed_dims: int, patch_size: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_channels, embed_dims, patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dims, eps=_LN_EPS)

    def forward(self, x: Tensor) -> Tensor:
        p = self.patch_size
        x = F.pad(x, (0, (-x.shape[-1]) % p, 0, (-x.shape[-2]) % p))
        x = self.proj(x)
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class PCTWindowAttention(nn.Module):
    """Cosine multi-head self-attention inside a window with a continuous position bias.

    ``attn = cos(q, k) · exp(min(logit_scale, log 100)) + 16·sigmoid(rpe_mlp(table))[index]``,
    where ``table`` holds the relative offsets of a ``window_size`` window divided by
    ``pretrained_window_size - 1``, scaled to ±8 and mapped by ``sign(x)·log2(1+|x|)/3``.

    The bias depends only on ``rpe_mlp`` and two buffers, not on the input. In eval mode with
    a frozen ``rpe_mlp`` (no parameter requires grad; PCT's frozen backbone) it is computed
    once and reused (:meth:`position_bias`), bit-identical to recomputing it (PCT-Base at
    256×256: 24 biases, 79 MiB in float32, ~9 % less CPU time per forward). The cache is
    dropped by :meth:`train` and whenever one of those tensors changes (``load_state_dict``,
    any in-place edit, ``.to()``), which a key of their identities, data pointers, versions
    and device detects.

    Args:
        embed_dims (int): channels C.
        num_heads (int): attention heads.
        window_size (int): side of the square window.
        pretrained_window_size (int): window side the weights were pretrained with.
        rpe_hidden_dims (int): hidden width of the position-bias MLP.
        attn_drop (float): dropout on the attention weights.
        proj_drop (float): dropout after the output projection.

    Shapes:
        input (B·nW, ws², C), optional mask (nW, ws², ws²) -> output (B·nW, ws², C).
    """

    def __init__(self, embed_dims: int, num_heads: int, window_size: int,
                 pretrained_window_size: int, rpe_hidden_dims: int = 512,
                 attn_drop: float = 0.0, proj_drop: float = 0.0) -> None:
        super().__init__()
        if embed_dims % num_heads != 0:
            raise ValueError(f'PCTWindowAttention: embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        if pretrained_window_size < 2:
            raise ValueError('PCTWindowAttention: pretrained_window_size must be >= 2, got '
                             f'{pretrained_window_size}')
        self.num_heads = num_heads
        self.window_size = window_size
        self.logit_scale = nn.Parameter(torch.full((num_heads, 1, 1), math.log(10.0)))
        self.rpe_mlp = nn.Sequential(
            nn.Linear(2, rpe_hidden_dims), nn.ReLU(inplace=True),
            nn.Linear(rpe_hidden_dims, num_heads, bias=False))

        offsets = torch.arange(-(window_size - 1), window_size, dtype=torch.float32)
        table = torch.stack(torch.meshgrid(offsets, offsets, indexing='ij'), dim=-1)
        table = table / (pretrained_window_size - 1) * 8
        table = torch.sign(table) * torch.log2(table.abs() + 1.0) / math.log2(8)
        self.register_buffer('relative_coords_table', table.unsqueeze(0))  # 1, 2ws-1, 2ws-1, 2

        coords = torch.stack(torch.meshgrid(torch.arange(window_size), torch.arange(window_size),
                                            indexing='ij')).flatten(1)  # 2, ws²
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window_size - 1)
        self.register_buffer('relative_position_index', rel[..., 0] * (2 * window_size - 1)
                             + rel[..., 1])  # ws², ws²

        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(embed_dims))
        self.v_bias = nn.Parameter(torch.zeros(embed_dims))
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)
        self._bias_cache: Optional[Tuple[tuple, Tensor]] = None  # (key, bias)

    def train(self, mode: bool = True) -> 'PCTWindowAttention':
        """Set the mode and drop the cached position bias."""
        self._bias_cache = None
        return super().train(mode)

    def _bias_cache_key(self) -> Optional[tuple]:
        """Identity of every tensor the bias depends on, or None when it must be recomputed
        (training, or ``rpe_mlp`` trainable)."""
        params = list(self.rpe_mlp.parameters())
        if self.training or any(p.requires_grad for p in params):
            return None
        tensors = params + [self.relative_coords_table, self.relative_position_index]
        return tuple((id(t), t.data_ptr(), t._version, t.device) for t in tensors)

    def position_bias(self) -> Tensor:
        """Relative position bias (num_heads, ws², ws²), cached when frozen (class doc)."""
        key = self._bias_cache_key()
        if key is None:
            self._bias_cache = None
            return self._compute_position_bias()
        if self._bias_cache is None or self._bias_cache[0] != key:
            # contiguous: the same values, added to the attention logits ~4x faster
            self._bias_cache = (key, self._compute_position_bias().contiguous())
        return self._bias_cache[1]

    def _compute_position_bias(self) -> Tensor:
        table = self.rpe_mlp(self.relative_coords_table.float()).view(-1, self.num_heads)
        n = self.window_size * self.window_size
        bias = table[self.relative_position_index.view(-1)].view(n, n, self.num_heads)
        return 16 * torch.sigmoid(bias.permute(2, 0, 1))

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        b, n, c = x.shape
        bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.num_heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = F.normalize(q.float(), dim=-1) @ F.normalize(k.float(), dim=-1).transpose(-2, -1)
        attn = attn * torch.clamp(self.logit_scale, max=_MAX_LOGIT_SCALE).exp()
        attn = attn + self.position_bias().unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b // nw, nw, self.num_heads, n, n) + mask[None, :, None]
            attn = attn.view(b, self.num_heads, n, n)
        attn = self.attn_drop(attn.softmax(dim=-1).type_as(x))
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj_drop(self.proj(x))


class PCTSwinMLP(nn.Module):
    """Linear → GELU → Dropout → Linear → Dropout (keys ``fc1``, ``fc2``)."""

    def __init__(self, embed_dims: int, hidden_dims: int, drop: float = 0.0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(embed_dims, hidden_dims)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dims, embed_dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class PCTSwinBlock(nn.Module):
    """Post-norm (res-post-norm) Swin block: ``x + DP(LN1(attn(x)))``, then ``x + DP(LN2(mlp(x)))``.

    Args:
        embed_dims (int): channels C.
        num_heads (int): attention heads.
        window_size (int): window side.
        pretrained_window_size (int): window side used at pretraining (position-bias scaling).
        shift (bool): shift the windows by ``window_size // 2`` (odd blocks of shifted stages).
        mlp_ratio (float): MLP hidden width / C.
        drop (float): dropout after the attention projection and in the MLP.
        attn_drop (float): attention-weight dropout.
        drop_path (float): stochastic-depth rate.

    Shapes:
        ``forward(x (B, H·W, C), hw=(H, W), mask)`` -> (B, H·W, C).
    """

    def __init__(self, embed_dims: int, num_heads: int, window_size: int,
                 pretrained_window_size: int, shift: bool = False, mlp_ratio: float = 4.0,
                 drop: float = 0.0, attn_drop: float = 0.0, drop_path: float = 0.0) -> None:
        super().__init__()
        self.window_size = window_size
        self.shift_size = window_size // 2 if shift else 0
        self.attn = PCTWindowAttention(embed_dims, num_heads, window_size, pretrained_window_size,
                                       attn_drop=attn_drop, proj_drop=drop)
        self.norm1 = nn.LayerNorm(embed_dims, eps=_LN_EPS)
        self.mlp = PCTSwinMLP(embed_dims, int(embed_dims * mlp_ratio), drop)
        self.norm2 = nn.LayerNorm(embed_dims, eps=_LN_EPS)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: Tensor, hw: Tuple[int, int], mask: Optional[Tensor]) -> Tensor:
        h, w = hw
        b, _, c = x.shape
        ws = self.window_size
        y = F.pad(x.view(b, h, w, c), (0, 0, 0, (-w) % ws, 0, (-h) % ws))
        hp, wp = y.shape[1:3]
        if self.shift_size:
            y = torch.roll(y, shifts=(-self.shift_size, -self.shift_size), dims=(1, 2))
        y = self.attn(_window_partition(y, ws), mask if self.shift_size else None)
        y = _window_merge(y, ws, hp, wp)
        if self.shift_size:
            y = torch.roll(y, shifts=(self.shift_size, self.shift_size), dims=(1, 2))
        y = y[:, :h, :w].reshape(b, h * w, c)
        x = x + self.drop_path(self.norm1(y))
        return x + self.drop_path(self.norm2(self.mlp(x)))


class PCTPatchMerging(nn.Module):
    """2×2 patch merging: concat (x[0::2,0::2], x[1::2,0::2], x[0::2,1::2], x[1::2,1::2]) →
    Linear 4C→2C (no bias) → LayerNorm(2C). Odd sizes are zero-padded.

    Shapes:
        ``forward(x (B, H·W, C), hw)`` -> (B, ceil(H/2)·ceil(W/2), 2C).
    """

    def __init__(self, embed_dims: int) -> None:
        super().__init__()
        self.reduction = nn.Linear(4 * embed_dims, 2 * embed_dims, bias=False)
        self.norm = nn.LayerNorm(2 * embed_dims, eps=_LN_EPS)

    def forward(self, x: Tensor, hw: Tuple[int, int]) -> Tensor:
        h, w = hw
        b, _, c = x.shape
        x = F.pad(x.view(b, h, w, c), (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]],
                      dim=-1)
        return self.norm(self.reduction(x.reshape(b, -1, 4 * c)))


class PCTSwinStage(nn.Module):
    """One stage: ``depth`` blocks (every odd block shifted if ``shift``) and an optional merge.

    Shapes:
        ``forward(x (B, H·W, C), hw)`` -> (stage output (B, H·W, C), next input, next hw).
    """

    def __init__(self, embed_dims: int, depth: int, num_heads: int, window_size: int,
                 pretrained_window_size: int, shift: bool, drop_paths: Sequence[float],
                 downsample: bool, mlp_ratio: float = 4.0, drop: float = 0.0,
                 attn_drop: float = 0.0) -> None:
        super().__init__()
        self.window_size = window_size
        self.shift = shift
        self.blocks = nn.ModuleList([
            PCTSwinBlock(embed_dims, num_heads, window_size, pretrained_window_size,
                         shift=shift and i % 2 == 1, mlp_ratio=mlp_ratio, drop=drop,
                         attn_drop=attn_drop, drop_path=drop_paths[i]) for i in range(depth)])
        self.downsample = PCTPatchMerging(embed_dims) if downsample else None

    def forward(self, x: Tensor, hw: Tuple[int, int]) -> Tuple[Tensor, Tensor, Tuple[int, int]]:
        mask = None
        if self.shift and len(self.blocks) > 1:
            ws = self.window_size
            hp, wp = math.ceil(hw[0] / ws) * ws, math.ceil(hw[1] / ws) * ws
            mask = _shifted_window_mask(hp, wp, ws, ws // 2, x.device)
        for block in self.blocks:
            x = block(x, hw, mask)
        if self.downsample is None:
            return x, x, hw
        return x, self.downsample(x, hw), ((hw[0] + 1) // 2, (hw[1] + 1) // 2)


def _per_stage(value: Union[int, bool, Sequence], num_stages: int, name: str) -> list:
    if isinstance(value, (int, bool)):
        return [value] * num_stages
    value = list(value)
    if len(value) != num_stages:
        raise ValueError(f'PCTSwinV2: {name} has {len(value)} entries, expected one per stage '
                         f'({num_stages})')
    return value


@MODELS.register_module()
class PCTSwinV2(BaseModule):
    """PCT's SwinV2 backbone (``SwinV2TransformerRPE2FC`` with PCT's settings).

    Args:
        img_size (int | tuple[int, int]): input (H, W); only validated (must be divisible by 32
            for the stride-32 output the PCT head expects). Default 256.
        in_channels (int): image channels. Default 3.
        embed_dims (int): channels of stage 0; stage i has ``embed_dims·2^i``. PCT: 128 (Base),
            192 (Large), 256 (Huge).
        depths (Sequence[int]): blocks per stage, e.g. (2, 2, 18, 2).
        num_heads (Sequence[int]): heads per stage, e.g. (4, 8, 16, 32).
        window_size (int | Sequence[int]): window side per stage, e.g. (16, 16, 16, 8).
        pretrained_window_size (int | Sequence[int]): window side of the pretraining run per
            stage, used to normalise the relative coordinates, e.g. (12, 12, 12, 6).
        shift (bool | Sequence[bool]): shifted windows per stage, e.g. (True, True, False, False).
        mlp_ratio (float): MLP width / channels. Default 4.
        drop_rate (float): dropout rate. Default 0.
        attn_drop_rate (float): attention dropout rate. Default 0.
        drop_path_rate (float): stochastic depth, linearly increasing over all blocks.
        out_indices (Sequence[int]): stages to output; each gets a LayerNorm ``norm{i}``.
            Default (3,).
        frozen_stages (int): -1 trains everything; k >= 0 freezes (eval mode, no gradients)
            the patch embedding (and its dropout), stages 0..k-1 and their output norms. PCT
            freezes the whole backbone: k = 4 here (PCT's ``frozen_stages=5`` plus its
            ``norm3`` freeze).
        init_cfg (dict | list[dict], optional): e.g. ``dict(type='Pretrained',
            checkpoint=PATH, prefix='backbone.')`` for PCT's heatmap-trained SwinV2.

    Shapes:
        input (B, 3, H, W) -> tuple with one (B, embed_dims·2^i, H/2^(i+2), W/2^(i+2)) map per
        ``out_indices`` entry, after its LayerNorm; for i = 3: (B, 8·embed_dims, H/32, W/32).
    """

    def __init__(self, img_size: Union[int, Sequence[int]] = 256, in_channels: int = 3,
                 embed_dims: int = 128, depths: Sequence[int] = (2, 2, 18, 2),
                 num_heads: Sequence[int] = (4, 8, 16, 32),
                 window_size: Union[int, Sequence[int]] = (16, 16, 16, 8),
                 pretrained_window_size: Union[int, Sequence[int]] = (12, 12, 12, 6),
                 shift: Union[bool, Sequence[bool]] = (True, True, False, False),
                 mlp_ratio: float = 4.0, drop_rate: float = 0.0, attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.3, out_indices: Sequence[int] = (3, ),
                 frozen_stages: int = -1, init_cfg: Optional[Union[dict, List[dict]]] = None
                 ) -> None:
        super().__init__(init_cfg=init_cfg)
        num_stages = len(depths)
        img_size = _per_stage(img_size, 2, 'img_size')
        stride = 2 ** (num_stages + 1)
        if any(s % stride for s in img_size):
            raise ValueError(f'PCTSwinV2: img_size={img_size} must be divisible by the total '
                             f'stride {stride}')
        num_heads = _per_stage(num_heads, num_stages, 'num_heads')
        window_size = _per_stage(window_size, num_stages, 'window_size')
        pretrained_window_size = _per_stage(pretrained_window_size, num_stages,
                                            'pretrained_window_size')
        shift = _per_stage(shift, num_stages, 'shift')
        if any(i < 0 or i >= num_stages for i in out_indices):
            raise ValueError(f'PCTSwinV2: out_indices={tuple(out_indices)} must lie in '
                             f'[0, {num_stages})')
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'PCTSwinV2: frozen_stages={frozen_stages} must lie in '
                             f'[-1, {num_stages}]')

        self.img_size = tuple(img_size)
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.num_features = [embed_dims * 2**i for i in range(num_stages)]

        self.patch_embed = PCTPatchEmbed(in_channels, embed_dims, patch_size=4)
        self.pos_drop = nn.Dropout(drop_rate)
        num_blocks = sum(depths)
        dpr = [drop_path_rate * i / max(num_blocks - 1, 1) for i in range(num_blocks)]
        self.layers = nn.ModuleList()
        for i in range(num_stages):
            self.layers.append(PCTSwinStage(
                self.num_features[i], depths[i], num_heads[i], window_size[i],
                pretrained_window_size[i], bool(shift[i]),
                dpr[sum(depths[:i]):sum(depths[:i + 1])], downsample=i < num_stages - 1,
                mlp_ratio=mlp_ratio, drop=drop_rate, attn_drop=attn_drop_rate))
        for i in self.out_indices:
            self.add_module(f'norm{i}', nn.LayerNorm(self.num_features[i], eps=_LN_EPS))
        self._freeze_stages()

    def init_weights(self) -> None:
        """Truncated-normal (std 0.02) Linear/Conv weights, zero biases, unit LayerNorms, block
        norms at 1e-5 (SwinV2 res-post-norm start); then ``init_cfg`` (e.g. a checkpoint)."""
        if not self.is_init:
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Conv2d)):
                    nn.init.trunc_normal_(m.weight, std=0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
            for stage in self.layers:
                for block in stage.blocks:
                    for norm in (block.norm1, block.norm2):
                        nn.init.constant_(norm.weight, 1e-5)
        super().init_weights()

    def _frozen_modules(self) -> List[nn.Module]:
        if self.frozen_stages < 0:
            return []
        modules = [self.patch_embed, self.pos_drop]
        for i in range(self.frozen_stages):
            modules.append(self.layers[i])
            if i in self.out_indices:
                modules.append(getattr(self, f'norm{i}'))
        return modules

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'PCTSwinV2':
        super().train(mode)
        self._freeze_stages()
        return self

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.patch_embed(x)
        hw = (x.shape[2], x.shape[3])
        x = self.pos_drop(x.flatten(2).transpose(1, 2))
        outs = []
        for i, stage in enumerate(self.layers):
            out_hw = hw
            out, x, hw = stage(x, hw)
            if i in self.out_indices:
                out = getattr(self, f'norm{i}')(out.float())
                outs.append(out.view(-1, *out_hw, self.num_features[i]).permute(0, 3, 1, 2)
                            .contiguous())
        return tuple(outs)
