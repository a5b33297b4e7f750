"""Buffer synchronisation across processes for models with constant non-float buffers."""
from typing import Iterator

import torch
from mmengine.dist import all_reduce_params, is_distributed
from mmengine.hooks import Hook
from torch import nn

from mmpose.registry import HOOKS


def dense_float_buffers(model: nn.Module) -> Iterator[torch.Tensor]:
    """The model's dense floating-point buffers (e.g. BatchNorm running statistics)."""
    for buffer in model.buffers():
        if buffer.layout == torch.strided and buffer.is_floating_point():
            yield buffer


@HOOKS.register_module()
class SyncDenseBuffersHook(Hook):
    """Average the dense floating-point buffers over the processes at the end of every
    training epoch (and before a validation not preceded by one, as with iteration-based
    loops).

    mmengine's ``SyncBuffersHook`` (in mmpose's default runtime) averages *every* buffer by
    flattening them into one tensor per type, which fails on the mesh sampler's sparse
    matrices and would average constant integer/boolean buffers (faces, edges, the attention
    mask). Those are identical on all processes by construction; only statistics such as
    BatchNorm's running mean and variance drift apart and need averaging.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self.distributed = is_distributed()
        self.synced_in_train = False

    def _sync(self, runner) -> None:
        all_reduce_params(dense_float_buffers(runner.model), op='mean')

    def after_train_epoch(self, runner) -> None:
        if self.distributed:
            self._sync(runner)
            self.synced_in_train = True

    def before_val_epoch(self, runner) -> None:
        if self.distributed:
            if not self.synced_in_train:
                self._sync(runner)
            self.synced_in_train = False
