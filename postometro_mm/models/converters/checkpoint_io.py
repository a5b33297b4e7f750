"""Reading, comparing and atomically writing state dicts for the model-converter tools."""
import argparse
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor, nn

from postometro_mm.utils.cli import conversion_parser, refuse_overwrite

_WRAPPER_KEYS = ('state_dict', 'model', 'module')
#: Converted checkpoints keep the source entries without a plugin counterpart under this key.
UNMAPPED_KEY = 'official_unmapped'


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
    refuse_overwrite(path, force)
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


def save_converted_checkpoint(state_dict: Mapping[str, Tensor], path: str, force: bool,
                              src: str, converter: str, layout: str = 'postometro_mm',
                              unmapped: Optional[Mapping[str, Tensor]] = None) -> None:
    """Write a converter's output ``{'state_dict', 'meta', [UNMAPPED_KEY]}`` atomically (see
    :func:`save_checkpoint_atomic`) and print what was written.

    Args:
        state_dict: the converted tensors.
        path (str): output file.
        force (bool): overwrite an existing ``path``.
        src (str): the converted file (recorded as an absolute path in ``meta``).
        converter (str): the conversion function (recorded in ``meta``).
        layout (str): key layout of ``state_dict``, 'postometro_mm' or the source project's.
        unmapped: source entries without a counterpart, kept under ``UNMAPPED_KEY`` (omitted
            when None).
    """
    checkpoint = dict(state_dict=state_dict,
                      meta=dict(converted_from=osp.abspath(src), converter=converter,
                                layout=layout))
    if unmapped is not None:
        checkpoint[UNMAPPED_KEY] = unmapped
    save_checkpoint_atomic(checkpoint, path, force=force)
    print(f'wrote {len(state_dict)} {layout} keys to {path}')


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


def checkpoint_conversion_parser(description: str, src_help: str,
                                 reverse_help: Optional[str] = None) -> argparse.ArgumentParser:
    """``SRC DST [--force] [--config CFG]`` (and ``--reverse`` when ``reverse_help`` is given)
    of the checkpoint converters in ``tools/model_converters``."""
    parser = conversion_parser(description, src_help)
    parser.add_argument('--config', help='plugin config to check the plugin-layout keys against')
    if reverse_help is not None:
        parser.add_argument('--reverse', action='store_true', help=reverse_help)
    return parser


def check_keys_against_config(config: Optional[str], state_dict: Mapping[str, Tensor],
                              allow_missing: bool = False) -> int:
    """Print the key report of a plugin-layout state dict against the model of ``config``
    (built on the meta device) and return the converter's exit status: 1 on unexpected or
    shape-mismatched keys, or on missing keys unless ``allow_missing``; 0 otherwise and when
    ``config`` is None (no check)."""
    if config is None:
        return 0
    missing, unexpected, mismatched = print_key_report(build_model_on_meta(config), state_dict)
    return int(bool(unexpected or mismatched or (missing and not allow_missing)))
