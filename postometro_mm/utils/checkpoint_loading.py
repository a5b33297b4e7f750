"""Loading checkpoint files without letting them run code.

``torch.load(..., weights_only=False)`` unpickles anything a file names, so a crafted
checkpoint runs code when loaded. :func:`load_checkpoint_file` loads with ``weights_only=True``
and an allow-list of the classes that mmengine checkpoints hold besides tensors (the message
hub's ``HistoryBuffer``, numpy arrays, scalars and dtypes); a file naming anything else is
refused with :class:`UnsafeCheckpointError`, naming the file and the class. Trusted legacy files
holding other classes load with ``unsafe=True`` (the tools' ``--unsafe-load``) or, for every
load in the process (e.g. inside an mmengine ``Runner``), after :func:`allow_unsafe_checkpoints`.

:func:`check_state_dict` tells whether a loaded state dict fits a model exactly (strict loading
with one readable report).
"""
import os.path as osp
import pickle
import re
from typing import Any, List, Optional

import numpy as np
import torch
from torch import nn

_UNSAFE_ALLOWED = False
_GLOBAL_IN_MESSAGE = re.compile(r'GLOBAL ([\w.]+)')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint names a class that is not on the allow-list."""


class CheckpointReadError(ValueError):
    """A file that is not a readable torch checkpoint (e.g. truncated)."""


def allow_unsafe_checkpoints(allowed: bool = True) -> None:
    """Let every later :func:`load_checkpoint_file` of this process unpickle anything (for
    trusted files only; ``--unsafe-load`` of the tools)."""
    global _UNSAFE_ALLOWED
    _UNSAFE_ALLOWED = allowed


def _history_buffer_statistic(owner: Any, name: str) -> Any:
    """Stands for ``builtins.getattr`` in checkpoints: a ``HistoryBuffer`` pickles its
    statistics methods as ``getattr(HistoryBuffer, 'mean')``; nothing else is resolved."""
    from mmengine.logging import HistoryBuffer
    # the defaults (min, max, current, mean) are registered by the first HistoryBuffer made
    statistics = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and name in statistics:
        return getattr(owner, name)
    raise pickle.UnpicklingError(f'GLOBAL builtins.getattr({getattr(owner, "__name__", owner)}'
                                 f', {name!r}) is not allowed')


def checkpoint_safe_globals() -> List[Any]:
    """The classes and functions a checkpoint may name besides torch's own: mmengine's
    ``HistoryBuffer`` (message hub) with its statistics methods, and what pickles numpy
    arrays, scalars and dtypes."""
    from mmengine.logging import HistoryBuffer
    try:  # numpy >= 1.26 has numpy._core; older releases only numpy.core
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - depends on the installed numpy
        from numpy.core import multiarray
    dtype_classes = [type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDGSUVOMm']
    return [HistoryBuffer, (_history_buffer_statistic, 'builtins.getattr'),
            multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, *dtype_classes]


def load_checkpoint_file(filename: str, map_location: Any = None,
                         unsafe: Optional[bool] = None) -> Any:
    """``torch.load`` of a checkpoint file that cannot run code (see the module doc).

    Args:
        filename: the checkpoint.
        map_location: as for ``torch.load``.
        unsafe: unpickle anything (trusted files only); None follows
            :func:`allow_unsafe_checkpoints`.

    Raises:
        FileNotFoundError: no such file.
        UnsafeCheckpointError: the file names a class off the allow-list.
        CheckpointReadError: the file is not a readable torch checkpoint (e.g. truncated); the
            message names it.
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file "{filename}" does not exist')
    unsafe = _UNSAFE_ALLOWED if unsafe is None else unsafe
    try:
        if unsafe:
            return torch.load(filename, map_location=map_location, weights_only=False)
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        names = sorted(set(_GLOBAL_IN_MESSAGE.findall(str(err))))
        if not names:
            raise CheckpointReadError(f'{filename}: cannot be read as a torch checkpoint '
                                      f'({err})') from None
        raise UnsafeCheckpointError(
            f'{filename}: refusing to load it: it names {", ".join(names)}, which is not on the '
            'allow-list of checkpoint contents (tensors, containers, numpy arrays, mmengine '
            'history buffers). Loading it could run code; if you trust the file, pass '
            '--unsafe-load (unsafe_load=True in Python)') from None
    except FileNotFoundError:
        raise
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointReadError(f'{filename}: cannot be read as a torch checkpoint ({err}); '
                                  'is it truncated or another kind of file?') from None


class CheckpointMismatchError(ValueError):
    """A checkpoint whose parameters do not fit the model built from the config."""


def model_state_dict(checkpoint: Any, filename: str) -> dict:
    """The model's state dict of a loaded checkpoint (``state_dict`` of an mmengine checkpoint,
    or a bare state dict), without a DistributedDataParallel ``module.`` prefix."""
    state_dict = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state_dict, dict):
        raise CheckpointMismatchError(f'checkpoint "{filename}" holds no state dict')
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state_dict.items()}


def check_state_dict(model: nn.Module, state_dict: dict, checkpoint: str,
                     config_name: str) -> None:
    """Raise :class:`CheckpointMismatchError` unless ``state_dict`` fits ``model`` exactly: the
    message lists the missing, unexpected and differently shaped parameters (five of each) and
    points to the converter when the keys are in the reference PostoMETRO layout."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    wrong_shape = [f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model '
                   f'{tuple(expected[k].shape)}' for k in expected
                   if k in state_dict and hasattr(state_dict[k], 'shape')
                   and tuple(state_dict[k].shape) != tuple(expected[k].shape)]
    if not (missing or unexpected or wrong_shape):
        return

    def listing(title: str, items: List[str]) -> str:
        shown = ', '.join(items[:5]) + (f', ... ({len(items) - 5} more)' if len(items) > 5
                                         else '')
        return f'\n  {len(items)} {title}: {shown}' if items else ''

    hint = ''
    if any(k.startswith(('transformer_1.', 'pct.', 'conv_1x1.')) for k in unexpected):
        hint = ('\n  It looks like a checkpoint in the reference PostoMETRO layout: convert it '
                'with tools/model_converters/postometro_to_plugin.py first.')
    raise CheckpointMismatchError(
        f'checkpoint "{checkpoint}" does not match the model of config "{config_name}":'
        + listing('parameters missing from the checkpoint', missing)
        + listing('unexpected parameters in the checkpoint', unexpected)
        + listing('parameters with a different shape', wrong_shape)
        + '\n  Use the config the checkpoint was trained with.' + hint)
