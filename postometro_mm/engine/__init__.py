from .rng_state_hook import RNGStateHook
from .sync_buffers_hook import SyncDenseBuffersHook

__all__ = ['RNGStateHook', 'SyncDenseBuffersHook']
