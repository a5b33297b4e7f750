"""Reading, comparing and atomically writing state dicts for the model-converter tools."""
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict, List, Mapping, Tuple

import torch
from torch import Tensor, nn

_WRAPPER_KEYS = ('state_dict', 'model', 'module')


def load_state_dict_file(path: str) -> 'OrderedDict[str, Tensor]':
    """Load a state dict from a ``torch.save`` file (a bare state dict, or one wrapped under
    ``state_dict``/``model``/``module``); strips a DistributedDataParallel ``module.`` prefix.

    The file is unpickled with ``weights_only=False`` (released checkpoints may hold numpy
    objects in their metadata): only convert files you trust.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint file "{path}" does not exist')
    obj = torch.load(path, map_location='cpu', weights_only=False)
    while isinstance(obj, Mapping) and not _is_state_dict(obj):
        key = next((k for k in _WRAPPER_KEYS if k in obj), None)
        if key is None:
            raise ValueError(f'"{path}" holds neither a state dict nor one under '
                             f'{_WRAPPER_KEYS}; top-level keys: {list(obj)[:10]}')
        obj = obj[key]
    if not isinstance(obj, Mapping):
        raise ValueError(f'"{path}" holds a {type(obj).__name__}, expected a state dict')
    if all(k.startswith('module.') for k in obj):
        obj = OrderedDict((k[len('module.'):], v) for k, v in obj.items())
    return OrderedDict(obj)


def _is_state_dict(obj: Mapping) -> bool:
    return len(obj) > 0 and all(isinstance(v, Tensor) for v in obj.values())


def save_checkpoint_atomic(checkpoint: dict, path: str, force: bool = False) -> None:
    """``torch.save`` into a temporary file next to ``path``, then rename it into place.

    Raises:
        FileExistsError: ``path`` exists and ``force`` is False.
    """
    if osp.exists(path) and not force:
        raise FileExistsError(f'"{path}" exists; pass --force to overwrite it')
    out_dir = osp.dirname(osp.abspath(path))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_', suffix='.pth', dir=out_dir)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(checkpoint, f)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def compare_with_model(state_dict: Mapping[str, Tensor], model: nn.Module
                       ) -> Tuple[List[str], List[str], Dict[str, Tuple[tuple, tuple]]]:
    """Keys the model expects but the state dict lacks, keys it does not expect, and shape
    mismatches ``{key: (checkpoint shape, model shape)}``."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = {k: (tuple(v.shape), tuple(expected[k].shape))
                  for k, v in state_dict.items()
                  if k in expected and tuple(v.shape) != tuple(expected[k].shape)}
    return missing, unexpected, mismatched


def build_model_on_meta(config: str) -> nn.Module:
    """Build ``cfg.model`` of a config file on the meta device (no memory, no initialisation),
    e.g. to compare a converted state dict's keys and shapes with the model."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmpose.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    import postometro_mm  # noqa: F401  (registers the plugin's modules)
    with torch.device('meta'):
        return MODELS.build(cfg.model)


def print_key_report(model: nn.Module, state_dict: Mapping[str, Tensor]
                     ) -> Tuple[List[str], List[str], Dict[str, Tuple[tuple, tuple]]]:
    """Print and return :func:`compare_with_model`'s missing / unexpected / mismatched keys."""
    missing, unexpected, mismatched = compare_with_model(state_dict, model)
    print_keys('missing keys (in the model, not in the checkpoint)', missing)
    print_keys('unexpected keys (in the checkpoint, not in the model)', unexpected)
    print_keys('shape mismatches (checkpoint vs model)',
               [f'{k}: {a} vs {b}' for k, (a, b) in mismatched.items()])
    return missing, unexpected, mismatched


def print_keys(title: str, keys) -> None:
    keys = list(keys)
    print(f'{title}: {len(keys)}')
    for key in keys:
        print(f'    {key}')
