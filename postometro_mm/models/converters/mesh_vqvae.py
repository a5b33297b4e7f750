"""Released Mesh-VQ-VAE checkpoints (``{'model': state_dict}``) <-> :class:`MeshVQVAE`.

The reference wraps one autoencoder in both its encoder and its decoder, so every layer tensor
appears twice, as ``encoder.model.<name><l>`` and ``decoder.model.<name><l>`` (``name`` in
``weights``, ``bias``, ``w_weights``, ``p_neighbors``, ``weight_res``; ``l`` the layer index
of the whole list). The plugin keeps layer ``l`` once, under ``encoder.<l>.<name>`` for the
first half and ``decoder.<l - L/2>.<name>`` for the second. The quantiser's
``vq_vae._embedding.weight`` / ``_ema_w`` / ``_ema_cluster_size`` are ``quantizer.codebook`` /
``ema_w`` / ``ema_cluster_size``.
"""
import re
from collections import OrderedDict
from typing import Dict, Mapping

import torch
from torch import Tensor

_LAYER_KEY = re.compile(r'^(encoder|decoder)\.model\.(weights|bias|w_weights|p_neighbors|'
                        r'weight_res)(\d+)$')
_QUANTIZER_KEYS = {'vq_vae._embedding.weight': 'quantizer.codebook',
                   'vq_vae._ema_w': 'quantizer.ema_w',
                   'vq_vae._ema_cluster_size': 'quantizer.ema_cluster_size'}


def _num_layers(indices) -> int:
    count = max(indices) + 1
    if count % 2:
        raise ValueError(f'Mesh-VQ-VAE state dict: {count} layers, expected an even count '
                         '(encoder and decoder halves)')
    return count


def mesh_vqvae_official_to_plugin(state_dict: Mapping[str, Tensor]
                                  ) -> 'OrderedDict[str, Tensor]':
    """Convert a released Mesh-VQ-VAE state dict to the :class:`MeshVQVAE` layout.

    Raises:
        ValueError: an unknown key, a layer tensor whose ``encoder.model`` and
            ``decoder.model`` copies differ or exist only once, or an odd layer count.
    """
    layers: Dict[tuple, Dict[str, Tensor]] = {}
    converted: 'OrderedDict[str, Tensor]' = OrderedDict()
    for key, value in state_dict.items():
        match = _LAYER_KEY.match(key)
        if match:
            side, name, index = match.groups()
            layers.setdefault((int(index), name), {})[side] = value
        elif key in _QUANTIZER_KEYS:
            converted[_QUANTIZER_KEYS[key]] = value
        else:
            raise ValueError(f'Mesh-VQ-VAE state dict: unknown key "{key}"')
    if not layers:
        raise ValueError('Mesh-VQ-VAE state dict: no encoder.model / decoder.model layers')
    half = _num_layers([index for index, _ in layers]) // 2
    for (index, name), copies in sorted(layers.items()):
        if set(copies) != {'encoder', 'decoder'}:
            raise ValueError(f'Mesh-VQ-VAE state dict: {name}{index} is only under '
                             f'{sorted(copies)[0]}.model (the reference shares one '
                             'autoencoder between both)')
        if not torch.equal(copies['encoder'], copies['decoder']):
            raise ValueError(f'Mesh-VQ-VAE state dict: encoder.model.{name}{index} and '
                             f'decoder.model.{name}{index} differ')
        side, position = ('encoder', index) if index < half else ('decoder', index - half)
        converted[f'{side}.{position}.{name}'] = copies['encoder']
    return converted


def mesh_vqvae_plugin_to_official(state_dict: Mapping[str, Tensor]
                                  ) -> 'OrderedDict[str, Tensor]':
    """Inverse of :func:`mesh_vqvae_official_to_plugin`: the released layout (layer tensors
    under both ``encoder.model`` and ``decoder.model``, then the quantiser), for the reference
    code."""
    pattern = re.compile(r'^(encoder|decoder)\.(\d+)\.(\w+)$')
    to_official = {v: k for k, v in _QUANTIZER_KEYS.items()}
    parsed, quantizer = [], OrderedDict()
    for key, value in state_dict.items():
        match = pattern.match(key)
        if match:
            parsed.append((match.group(1), int(match.group(2)), match.group(3), value))
        elif key in to_official:
            quantizer[to_official[key]] = value
        else:
            raise ValueError(f'MeshVQVAE state dict: unknown key "{key}"')
    half = max(i for side, i, _, _ in parsed if side == 'encoder') + 1
    layers = sorted((i if side == 'encoder' else i + half, name, value)
                    for side, i, name, value in parsed)
    official: 'OrderedDict[str, Tensor]' = OrderedDict(
        (f'encoder.model.{name}{index}', value) for index, name, value in layers)
    official.update(quantizer)
    official.update((f'decoder.model.{name}{index}', value) for index, name, value in layers)
    return official
