"""The one place where postometro_mm adapts third-party code to this environment.

mmengine 0.10.7 calls ``torch.load(filename, map_location=...)`` without ``weights_only``.
Since torch 2.6 that argument defaults to ``True``, and checkpoints written by mmengine itself
(which pickle ``HistoryBuffer``, numpy scalars and the config in ``meta``) then fail to load,
breaking ``--resume``, ``load_from`` and ``mim test --checkpoint``. We re-register mmengine's
loaders for local paths and ``http(s)://`` URLs with ``weights_only=False``, i.e. the behaviour
of mmengine with the torch versions it was written for. Only load checkpoints you trust.
"""
import os.path as osp

import torch

_APPLIED = False


def _torch_load_full(filename: str, map_location=None):
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file "{filename}" does not exist')
    return torch.load(filename, map_location=map_location, weights_only=False)


def apply_env_compat() -> None:
    """Apply the environment shims once per process (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename: str, map_location=None):
        filename = osp.expanduser(filename)
        return _torch_load_full(filename, map_location)

    # '' is mmengine's scheme for plain local paths (the fallback of its prefix lookup).
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_from_local)
    _APPLIED = True
