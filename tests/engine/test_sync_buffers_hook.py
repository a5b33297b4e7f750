"""SyncDenseBuffersHook averages only the buffers that can drift apart between processes."""
import torch
from torch import nn

from postometro_mm.engine.sync_buffers_hook import dense_float_buffers


def test_only_dense_floating_point_buffers_are_synchronised():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
    model.register_buffer('sampler', torch.eye(3).to_sparse(), persistent=False)
    model.register_buffer('mask', torch.ones(2, 2, dtype=torch.bool))
    model.register_buffer('faces', torch.zeros(5, 3, dtype=torch.int64))
    bn = model[1]
    synced = list(dense_float_buffers(model))
    assert len(synced) == 2
    assert synced[0] is bn.running_mean and synced[1] is bn.running_var
