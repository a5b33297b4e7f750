"""Released VQ-HPS checkpoints (``{'model': state_dict}`` of the mesh regressor, plus the
separate Mesh-VQ-VAE checkpoint) <-> :class:`VQHPSEstimator`.

Regressor keys (ResNet-50 variant):

- ``backbone_pose.<i>.*`` / ``backbone_rot.<i>.*``: torchvision ResNet-50 children as a
  Sequential (0 conv1, 1 bn1, 4-7 layer1-4) -> ``backbone.*`` / ``rotation_backbone.*`` of
  mmpose's ResNet (same names below the top level);
- ``transformer.{encoder,decoder}.*`` -> ``head.transformer.*`` (same names);
- ``transformer.dec_head.*`` -> ``head.token_classifier.*``; its stored causal mask
  (``...attn.mask``, a lower-triangular matrix of ones) is checked and dropped: the plugin
  computes it;
- ``mesh_token_embed``, ``conv_1x1``, ``fc1``, ``fc2``, ``rot_predictor``, ``cam_predictor``,
  ``indices_regressor`` -> ``head.<same>``.

A DDP ``module.`` prefix is stripped; keys of the retired ``rotcam_feat`` module (which the
reference's own loader drops) are dropped and reported. The Mesh-VQ-VAE's tensors go to
``head.mesh_tokenizer.*`` (:func:`mesh_vqvae_official_to_plugin`), so one plugin checkpoint
holds the whole model. The HRNet-W48 variant's backbones are not mapped yet.
"""
import re
from collections import OrderedDict
from typing import List, Mapping, Optional, Tuple

import torch
from torch import Tensor

from ..layers import causal_mask
from .mesh_vqvae import mesh_vqvae_official_to_plugin, mesh_vqvae_plugin_to_official

_RESNET_CHILDREN = {'0': 'conv1', '1': 'bn1', '4': 'layer1', '5': 'layer2', '6': 'layer3',
                    '7': 'layer4'}
_BACKBONES = {'backbone_pose': 'backbone', 'backbone_rot': 'rotation_backbone'}
_HEAD_MODULES = ('mesh_token_embed', 'conv_1x1', 'fc1', 'fc2', 'rot_predictor',
                 'cam_predictor', 'indices_regressor')
_MASK_KEY = re.compile(r'^transformer\.dec_head\.blocks\.(\d+)\.attn\.mask$')
TOKENIZER_PREFIX = 'head.mesh_tokenizer.'


def _backbone_key(key: str) -> str:
    official, child, rest = key.split('.', 2)
    if child not in _RESNET_CHILDREN:
        raise ValueError(f'VQ-HPS state dict: "{key}" is not a ResNet-50 backbone key (the '
                         'HRNet-W48 variant is not supported by this converter yet)')
    return f'{_BACKBONES[official]}.{_RESNET_CHILDREN[child]}.{rest}'


def vqhps_official_to_plugin(state_dict: Mapping[str, Tensor],
                             mesh_vqvae_state_dict: Optional[Mapping[str, Tensor]] = None
                             ) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Convert a released VQ-HPS regressor state dict (and optionally the released Mesh-VQ-VAE
    state dict) to the :class:`VQHPSEstimator` layout.

    Returns:
        tuple: the converted state dict and the dropped ``rotcam_feat`` keys.

    Raises:
        ValueError: an unknown key, or a stored causal mask that is not lower-triangular ones.
    """
    converted: 'OrderedDict[str, Tensor]' = OrderedDict()
    dropped: List[str] = []
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        top = key.split('.', 1)[0]
        if 'rotcam_feat' in key:
            dropped.append(key)
        elif top in _BACKBONES:
            converted[_backbone_key(key)] = value
        elif _MASK_KEY.match(key):
            if not torch.equal(value.float(), causal_mask(value.shape[-1])):
                raise ValueError(f'VQ-HPS state dict: "{key}" is not a causal (lower-'
                                 'triangular) mask of ones')
        elif key.startswith('transformer.dec_head.'):
            converted['head.token_classifier.' + key[len('transformer.dec_head.'):]] = value
        elif key.startswith(('transformer.encoder.', 'transformer.decoder.')) \
                or top in _HEAD_MODULES:
            converted['head.' + key] = value
        else:
            raise ValueError(f'VQ-HPS state dict: unknown key "{key}"')
    if mesh_vqvae_state_dict is not None:
        for key, value in mesh_vqvae_official_to_plugin(mesh_vqvae_state_dict).items():
            converted[TOKENIZER_PREFIX + key] = value
    return converted, dropped


def vqhps_plugin_to_official(state_dict: Mapping[str, Tensor]
                             ) -> Tuple['OrderedDict[str, Tensor]', 'OrderedDict[str, Tensor]']:
    """Inverse of :func:`vqhps_official_to_plugin`: (regressor state dict in the released
    layout, causal masks included; released Mesh-VQ-VAE state dict, empty when the plugin
    state dict holds no tokenizer)."""
    children = {v: k for k, v in _RESNET_CHILDREN.items()}
    backbones = {v: k for k, v in _BACKBONES.items()}
    regressor: 'OrderedDict[str, Tensor]' = OrderedDict()
    tokenizer: 'OrderedDict[str, Tensor]' = OrderedDict()
    for key, value in state_dict.items():
        top, rest = key.split('.', 1)
        if key.startswith(TOKENIZER_PREFIX):
            tokenizer[key[len(TOKENIZER_PREFIX):]] = value
        elif top in backbones:
            child, tail = rest.split('.', 1)
            regressor[f'{backbones[top]}.{children[child]}.{tail}'] = value
        elif key.startswith('head.token_classifier.'):
            tail = key[len('head.token_classifier.'):]
            regressor['transformer.dec_head.' + tail] = value
            block = re.match(r'^blocks\.(\d+)\.ln1\.weight$', tail)
            if block:
                num_tokens = state_dict['head.mesh_token_embed.weight'].shape[0]
                regressor[f'transformer.dec_head.blocks.{block.group(1)}.attn.mask'] = \
                    causal_mask(num_tokens)
        elif top == 'head':
            regressor[rest] = value
        else:
            raise ValueError(f'VQHPSEstimator state dict: unknown key "{key}"')
    return regressor, (mesh_vqvae_plugin_to_official(tokenizer) if tokenizer
                       else OrderedDict())
