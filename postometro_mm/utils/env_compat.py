"""The one place where postometro_mm adapts third-party code to this environment.

1. Checkpoint loading. mmengine 0.10.7 calls ``torch.load(filename, map_location=...)`` without
``weights_only``. Since torch 2.6 that argument defaults to ``True`` without the classes that
mmengine's own checkpoints hold (``HistoryBuffer``, numpy scalars), so ``--resume``,
``load_from`` and ``mim test --checkpoint`` fail. We re-register mmengine's loader for local
paths with :func:`~postometro_mm.utils.checkpoint_loading.load_checkpoint_file`: weights only,
with an allow-list of those classes; any other class is refused (the file could run code)
unless the tool was given ``--unsafe-load``.

2. Multi-process training and testing on CPUs (gloo) with mmengine's ``pytorch`` launcher.
mmengine 0.10.7 assumes one GPU per process: ``init_dist`` calls
``torch.cuda.set_device(LOCAL_RANK)`` and ``Runner.wrap_model`` hands ``device_ids=[LOCAL_RANK]``
to ``DistributedDataParallel``. Without CUDA the first fails ("Found no NVIDIA driver") and DDP
rejects the second for CPU modules. :func:`enable_cpu_distributed` skips both GPU steps when CUDA
is unavailable; with a GPU nothing changes. The process group still needs a CPU backend::

    torchrun --nproc_per_node 2 tools/train.py CONFIG --launcher pytorch \\
        --cfg-options env_cfg.dist_cfg.backend=gloo
"""
import os.path as osp

import torch
import torch.distributed as torch_dist

_APPLIED = False


def enable_cpu_distributed() -> None:
    """Patch mmengine for CPU-only multi-process runs (no-op with CUDA; see module doc)."""
    if torch.cuda.is_available():
        return
    import mmengine.dist.utils as dist_utils
    from mmengine.model import MMDistributedDataParallel

    def init_dist_pytorch_cpu(backend: str = 'gloo', init_backend: str = 'torch',
                              **kwargs) -> None:
        """mmengine's ``_init_dist_pytorch`` without ``torch.cuda.set_device``: the
        process group reads RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT set by torchrun."""
        if backend == 'nccl':
            raise ValueError('distributed run without CUDA: NCCL needs GPUs, use gloo '
                             '(--cfg-options env_cfg.dist_cfg.backend=gloo)')
        if init_backend != 'torch':
            raise ValueError(f'distributed run without CUDA supports init_backend="torch" '
                             f'only, got "{init_backend}"')
        torch_dist.init_process_group(backend=backend, **kwargs)

    ddp_init = MMDistributedDataParallel.__init__

    def ddp_init_cpu(self, module, detect_anomalous_params: bool = False, **kwargs) -> None:
        """DDP of a CPU module takes no ``device_ids`` (its parameters fix the device)."""
        kwargs.pop('device_ids', None)
        kwargs.pop('output_device', None)
        ddp_init(self, module, detect_anomalous_params=detect_anomalous_params, **kwargs)

    dist_utils._init_dist_pytorch = init_dist_pytorch_cpu
    MMDistributedDataParallel.__init__ = ddp_init_cpu


def apply_env_compat() -> None:
    """Apply the environment shims once per process (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    from mmengine.runner.checkpoint import CheckpointLoader

    from .checkpoint_loading import load_checkpoint_file

    def load_from_local(filename: str, map_location=None):
        return load_checkpoint_file(osp.expanduser(filename), map_location)

    # '' is mmengine's scheme for plain local paths (the fallback of its prefix lookup).
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_from_local)
    enable_cpu_distributed()
    _APPLIED = True
