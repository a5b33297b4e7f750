"""HRNet whose four stage-4 branches are brought to the lowest resolution and concatenated
(VQ-HPS's HRNet-W48 image features: 48 + 96 + 192 + 384 = 720 channels at stride 32)."""
from typing import Tuple

import torch
from mmpose.models.backbones import HRNet
from mmpose.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class HRNetDownsampled(HRNet):
    """mmpose's :class:`HRNet` (same module names as the pose HRNet) plus
    ``downsample_stage_{i}``: branch ``i`` (1-based, all but the last) passes ``n - i``
    stride-2 3x3 convolutions (no bias) each followed by BatchNorm and ReLU, ``n`` being the
    number of branches; the results and the last branch are concatenated.

    Args:
        extra (dict): as :class:`HRNet`; ``stage4.multiscale_output`` must be True.
        **kwargs: the other :class:`HRNet` arguments.

    Shapes:
        (B, 3, H, W) -> a 1-tuple of (B, sum of stage-4 channels, H / 32, W / 32).
    """

    def __init__(self, extra: dict, **kwargs) -> None:
        if not extra['stage4'].get('multiscale_output', True):
            raise ValueError('HRNetDownsampled needs extra.stage4.multiscale_output=True '
                             '(every branch)')
        super().__init__(extra, **kwargs)
        channels = extra['stage4']['num_channels']
        for index, width in enumerate(channels[:-1]):
            steps = []
            for _ in range(len(channels) - 1 - index):
                steps += [nn.Conv2d(width, width, 3, stride=2, padding=1, bias=False),
                          nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            self.add_module(f'downsample_stage_{index + 1}', nn.Sequential(*steps))
        self.out_channels = sum(channels)

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        branches = super().forward(x)
        lowered = [getattr(self, f'downsample_stage_{i + 1}')(b)
                   for i, b in enumerate(branches[:-1])]
        return (torch.cat([*lowered, branches[-1]], dim=1), )
