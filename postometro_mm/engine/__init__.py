from .sync_buffers_hook import SyncDenseBuffersHook

__all__ = ['SyncDenseBuffersHook']
