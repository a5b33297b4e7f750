"""Lossless key mapping between PCT's released checkpoints and :class:`PCTPoseEstimator`.

Official layout (mmcv ``state_dict`` of Gengzigang/PCT, also the ``pct.*`` part of the
reference PostoMETRO model) → plugin layout:

=============================================== =============================================
official                                        plugin
=============================================== =============================================
``backbone.*``                                  ``backbone.*`` (identical names)
``extra_backbone.*``                            dropped when equal to ``backbone.*`` (PCT builds
                                                the same network twice); renamed to
                                                ``backbone.*`` when ``backbone.*`` is absent
                                                (stage-1 checkpoints)
``keypoint_head.tokenizer.codebook``            ``head.tokenizer.quantizer.codebook``
(same for ``ema_cluster_size``, ``ema_w``)
``keypoint_head.tokenizer.*``                   ``head.tokenizer.*``
``keypoint_head.conv_trans.*``                  ``head.classifier.input_proj.*``
``keypoint_head.conv_head.0.*``                 ``head.classifier.res_blocks.*``
``keypoint_head.mixer_trans.ff.*``              ``head.classifier.token_proj.*``
``keypoint_head.mixer_head.*``                  ``head.classifier.mixers.*``
``keypoint_head.mixer_norm_layer.ff.*``         ``head.classifier.token_norm.*``
``keypoint_head.cls_pred_layer.*``              ``head.classifier.cls_pred.*``
inside every MixerLayer: ``MLP_token.ff.*``     ``token_mlp.*``
                         ``MLP_channel.ff.*``   ``channel_mlp.*``
=============================================== =============================================

The export re-creates ``extra_backbone.*`` as a copy of ``backbone.*`` for image-guided models
(``head.tokenizer.start_img_embed`` present): both ``backbone.*`` and ``extra_backbone.*`` for a
stage-2 model, only ``extra_backbone.*`` for a stage-1 model (PCT's stage 1 has no
``backbone``).
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Tuple

import torch
from torch import Tensor

_MIXER_INTERNALS = (('MLP_token.ff.', 'token_mlp.'), ('MLP_channel.ff.', 'channel_mlp.'))
_QUANTIZER_BUFFERS = ('codebook', 'ema_cluster_size', 'ema_w')


def _rules() -> List[Tuple[str, str]]:
    """(official prefix, plugin prefix) pairs, most specific first; ``{i}`` = an integer."""
    rules = [('backbone.', 'backbone.')]
    rules += [(f'keypoint_head.tokenizer.{name}', f'head.tokenizer.quantizer.{name}')
              for name in _QUANTIZER_BUFFERS]
    for part in ('encoder', 'decoder'):
        rules += [(f'keypoint_head.tokenizer.{part}.{{i}}.{old}',
                   f'head.tokenizer.{part}.{{i}}.{new}') for old, new in _MIXER_INTERNALS]
    rules += [('keypoint_head.tokenizer.', 'head.tokenizer.'),
              ('keypoint_head.conv_trans.', 'head.classifier.input_proj.'),
              ('keypoint_head.conv_head.0.', 'head.classifier.res_blocks.'),
              ('keypoint_head.mixer_trans.ff.', 'head.classifier.token_proj.')]
    rules += [(f'keypoint_head.mixer_head.{{i}}.{old}', f'head.classifier.mixers.{{i}}.{new}')
              for old, new in _MIXER_INTERNALS]
    rules += [('keypoint_head.mixer_head.', 'head.classifier.mixers.'),
              ('keypoint_head.mixer_norm_layer.ff.', 'head.classifier.token_norm.'),
              ('keypoint_head.cls_pred_layer.', 'head.classifier.cls_pred.')]
    return rules


def _compile(prefix: str) -> re.Pattern:
    return re.compile('^' + re.escape(prefix).replace(re.escape('{i}'), r'(\d+)'))


_OFFICIAL_TO_PLUGIN = [(_compile(src), dst) for src, dst in _rules()]
_PLUGIN_TO_OFFICIAL = [(_compile(dst), src) for src, dst in _rules()]


def _rename(key: str, table: List[Tuple[re.Pattern, str]], direction: str) -> str:
    for pattern, template in table:
        match = pattern.match(key)
        if match:
            prefix = template.replace('{i}', match.group(1)) if match.groups() else template
            return prefix + key[match.end():]
    raise KeyError(f'PCT converter ({direction}): no mapping for key "{key}"')


def pct_official_to_plugin(state_dict: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Map a PCT state dict (official layout, see the module docstring) to plugin keys.

    Args:
        state_dict: keys ``backbone.*``, ``extra_backbone.*``, ``keypoint_head.*`` (without a
            ``state_dict`` wrapper or a ``pct.`` prefix).

    Returns:
        OrderedDict with the keys of :class:`PCTPoseEstimator` (same tensor objects).

    Raises:
        ValueError: an ``extra_backbone`` tensor differs from its ``backbone`` twin.
        KeyError: a key outside the known layout.
    """
    out: Dict[str, Tensor] = OrderedDict()
    extra = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith('extra_backbone.'):
            extra[key[len('extra_backbone.'):]] = value
        else:
            out[_rename(key, _OFFICIAL_TO_PLUGIN, 'official → plugin')] = value
    for name, value in extra.items():
        twin = out.get('backbone.' + name)
        if twin is None:
            out['backbone.' + name] = value
        elif twin.shape != value.shape or not torch.equal(twin, value):
            raise ValueError(f'PCT converter: extra_backbone.{name} differs from backbone.{name}; '
                             'PostoMETRO and the plugin run one backbone, so the two copies '
                             'must be identical')
    return out


def pct_plugin_to_official(state_dict: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Inverse of :func:`pct_official_to_plugin` (re-creates ``extra_backbone.*``).

    Args:
        state_dict: :class:`PCTPoseEstimator` keys (``backbone.*``, ``head.*``).

    Returns:
        OrderedDict in the official layout (``extra_backbone.*`` shares tensors with
        ``backbone.*``).
    """
    is_classifier = any(k.startswith('head.classifier.') for k in state_dict)
    guided = 'head.tokenizer.start_img_embed.weight' in state_dict
    out: Dict[str, Tensor] = OrderedDict()
    extra: Dict[str, Tensor] = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith('backbone.'):
            if guided:
                extra['extra_' + key] = value
            if is_classifier or not guided:
                out[key] = value
        else:
            out[_rename(key, _PLUGIN_TO_OFFICIAL, 'plugin → official')] = value
    out.update(extra)
    return out
