"""Fixed 2D sine position encoding of DETR (Carion et al., 2020), as FastMETRO/PostoMETRO use it."""
import math

import torch
from torch import Tensor, nn


class SinePositionEncoding2D(nn.Module):
    """Sine/cosine encoding of the (row, column) position of every cell of an H×W grid.

    With ``normalize=True`` the 1-based row index ``y`` becomes ``y / (H + eps) * scale`` (columns
    alike), so the encoding does not depend on the grid size. For feature ``i`` of one axis the
    frequency is ``temperature ** (2 * (i // 2) / num_feats)``; even features hold the sine, odd
    features the cosine. The output stacks the ``num_feats`` row features before the
    ``num_feats`` column features.

    Args:
        num_feats (int): features per axis; the output has ``2 * num_feats`` channels (use half
            the transformer width).
        temperature (float): base of the frequency progression. Defaults to 10000.
        normalize (bool): normalise positions to ``(0, scale]``. Defaults to True.
        scale (float): range of normalised positions. Defaults to 2π.
        eps (float): added to the grid size when normalising. Defaults to 1e-6.
    """

    def __init__(self, num_feats: int, temperature: float = 10000.0, normalize: bool = True,
                 scale: float = 2 * math.pi, eps: float = 1e-6) -> None:
        super().__init__()
        if num_feats <= 0 or num_feats % 2:
            raise ValueError(f'SinePositionEncoding2D: num_feats must be a positive even number, '
                             f'got {num_feats}')
        self.num_feats = num_feats
        self.temperature = temperature
        self.normalize = normalize
        self.scale = scale
        self.eps = eps

    def forward(self, height: int, width: int, device: torch.device = None) -> Tensor:
        """Encode an ``height × width`` grid.

        Returns:
            Tensor: (2 * num_feats, height, width) float32; ``.flatten(1).T`` gives one row per
            cell in row-major order (the order of ``feature_map.flatten(2)``).
        """
        y = torch.arange(1, height + 1, dtype=torch.float32, device=device)
        x = torch.arange(1, width + 1, dtype=torch.float32, device=device)
        if self.normalize:
            y = y / (height + self.eps) * self.scale
            x = x / (width + self.eps) * self.scale
        idx = torch.arange(self.num_feats, dtype=torch.float32, device=device)
        freq = self.temperature ** (2 * torch.div(idx, 2, rounding_mode='floor') / self.num_feats)
        pos_y = self._interleave(y[:, None] / freq)  # (H, num_feats)
        pos_x = self._interleave(x[:, None] / freq)  # (W, num_feats)
        pos_y = pos_y[:, None, :].expand(height, width, self.num_feats)
        pos_x = pos_x[None, :, :].expand(height, width, self.num_feats)
        return torch.cat([pos_y, pos_x], dim=-1).permute(2, 0, 1).contiguous()

    @staticmethod
    def _interleave(phase: Tensor) -> Tensor:
        """sin of even features, cos of odd features, in feature order."""
        return torch.stack([phase[:, 0::2].sin(), phase[:, 1::2].cos()], dim=-1).flatten(1)
