"""Reading, comparing and atomically writing state dicts for the model-converter tools."""
import argparse
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor, nn

from postometro_mm.body_models.npz_io import atomic_write
from postometro_mm.utils.checkpoint_loading import load_checkpoint_file
from postometro_mm.utils.cli import conversion_parser, refuse_overwrite

_WRAPPER_KEYS = ('state_dict', 'model', 'module')
#: Converted checkpoints keep the source entries without a plugin counterpart under this key.
UNMAPPED_KEY = 'official_unmapped'


def load_state_dict_file(path: str, unsafe: bool = False) -> 'OrderedDict[str, Tensor]':
    """Load a state dict from a ``torch.save`` file (a bare state dict, or one wrapped under
    ``state_dict``/``model``/``module``); strips a DistributedDataParallel ``module.`` prefix.

    The file is read by :func:`~postometro_mm.utils.checkpoint_loading.load_checkpoint_file`:
    weights only, classes off its allow-list refused unless ``unsafe`` (trusted files).
    """
    obj = load_checkpoint_file(path, 'cpu', unsafe=unsafe)
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
    atomic_write(path, lambda f: torch.save(checkpoint, f), overwrite=True)


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


def build_model_on_meta(config: str, cfg_options: Optional[dict] = None) -> nn.Module:
    """Build ``cfg.model`` of a config file on the meta device (no memory, no initialisation),
    e.g. to compare a converted state dict's keys and shapes with the model.

    Only the files that decide the parameter layout are read
    (:func:`~postometro_mm.utils.model_configs.parameter_layout_only`): the mesh sampler or
    the Mesh-VQ-VAE connection files, no SMPL model, no joint regressor. Their relative paths
    are taken from the working directory, as for every mmpose tool, else from the config
    file's folder or its parents
    (:func:`~postometro_mm.utils.model_configs.find_beside_config`); ``cfg_options`` (e.g.
    ``{'model.head.mesh_sampler.filename': ...}``) are merged first.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmpose.registry import MODELS
    from postometro_mm.utils.model_configs import (parameter_layout_only,
                                                   with_layout_files_beside_config)
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file "{config}" does not exist')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'config "{config}" has no "model"')
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    import postometro_mm  # noqa: F401  (registers the plugin's modules)
    with torch.device('meta'):
        return MODELS.build(
            with_layout_files_beside_config(parameter_layout_only(cfg.model), config))


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
    """``SRC DST [--force] [--config CFG [--cfg-options K=V ...]]`` (and ``--reverse`` when
    ``reverse_help`` is given) of the checkpoint converters in ``tools/model_converters``."""
    from mmengine.config import DictAction
    parser = conversion_parser(description, src_help)
    parser.add_argument('--config', help='plugin config to check the plugin-layout keys against '
                        '(the check runs after DST is written; a failed check exits with 1)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                        help='overrides of --config, as for tools/train.py, e.g. '
                        'model.head.mesh_sampler.filename=PATH')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='unpickle SRC in full, also classes off the checkpoint allow-list '
                        '(only for files you trust: loading them can run code)')
    if reverse_help is not None:
        parser.add_argument('--reverse', action='store_true', help=reverse_help)
    return parser


def check_keys_against_config(config: Optional[str], state_dict: Mapping[str, Tensor],
                              allow_missing: bool = False,
                              cfg_options: Optional[dict] = None) -> int:
    """Print the key report of a plugin-layout state dict against the model of ``config``
    (built on the meta device by :func:`build_model_on_meta`) and return the converter's exit
    status: 1 on unexpected or shape-mismatched keys, on missing keys unless
    ``allow_missing``, or when the model cannot be built (the reason is printed); 0 otherwise
    and when ``config`` is None (no check)."""
    if config is None:
        return 0
    try:
        model = build_model_on_meta(config, cfg_options)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f'key check against {config} failed: the model could not be built: {err}')
        return 1
    missing, unexpected, mismatched = print_key_report(model, state_dict)
    return int(bool(unexpected or mismatched or (missing and not allow_missing)))
