"""Released VQ-HPS checkpoints (``{'model': state_dict}`` of the mesh regressor, plus the
separate Mesh-VQ-VAE checkpoint) <-> :class:`VQHPSEstimator`.

Regressor keys:

- ``backbone_pose.*`` / ``backbone_rot.*`` -> ``backbone.*`` / ``rotation_backbone.*``.
  ResNet-50: torchvision's children as a Sequential (0 conv1, 1 bn1, 4-7 layer1-4), renamed to
  mmpose's ResNet (same names below). HRNet-W48: the pose HRNet's names, which
  :class:`HRNetDownsampled` keeps (``downsample_stage_{1,2,3}`` included); its unused heatmap
  conv ``final_layer`` has no counterpart;
- ``transformer.{encoder,decoder}.*`` -> ``head.transformer.*`` (same names);
- ``transformer.dec_head.*`` -> ``head.token_classifier.*``; its stored causal mask
  (``...attn.mask``, a lower-triangular matrix of ones) is checked and dropped: the plugin
  computes it;
- ``mesh_token_embed``, ``conv_1x1``, ``fc1``, ``fc2``, ``rot_predictor``, ``cam_predictor``,
  ``indices_regressor`` -> ``head.<same>``.

A DDP ``module.`` prefix is stripped. Keys without a counterpart (``final_layer`` and the
retired ``rotcam_feat`` module, which the reference's own loader drops) are returned as
*unmapped*: the CLI keeps them in the converted file so that ``--reverse`` restores the released
state dict exactly. The Mesh-VQ-VAE's tensors go to ``head.mesh_tokenizer.*``
(:func:`mesh_vqvae_official_to_plugin`), so one plugin checkpoint holds the whole model.
"""
import re
from collections import OrderedDict
from typing import Mapping, Optional, Tuple

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
    return f'{_BACKBONES[official]}.{_RESNET_CHILDREN.get(child, child)}.{rest}'


def _is_unmapped(key: str) -> bool:
    parts = key.split('.')
    return 'rotcam_feat' in parts or (parts[0] in _BACKBONES and parts[1] == 'final_layer')


def vqhps_official_to_plugin(state_dict: Mapping[str, Tensor],
                             mesh_vqvae_state_dict: Optional[Mapping[str, Tensor]] = None
                             ) -> Tuple['OrderedDict[str, Tensor]', 'OrderedDict[str, Tensor]']:
    """Convert a released VQ-HPS regressor state dict (and optionally the released Mesh-VQ-VAE
    state dict) to the :class:`VQHPSEstimator` layout.

    Returns:
        tuple: the converted state dict and the unmapped entries (released names).

    Raises:
        ValueError: an unknown key, or a stored causal mask that is not lower-triangular ones.
    """
    converted: 'OrderedDict[str, Tensor]' = OrderedDict()
    unmapped: 'OrderedDict[str, Tensor]' = OrderedDict()
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        top = key.split('.', 1)[0]
        if _is_unmapped(key):
            unmapped[key] = value
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
    return converted, unmapped


def vqhps_plugin_to_official(state_dict: Mapping[str, Tensor],
                             unmapped: Optional[Mapping[str, Tensor]] = None
                             ) -> Tuple['OrderedDict[str, Tensor]', 'OrderedDict[str, Tensor]']:
    """Inverse of :func:`vqhps_official_to_plugin`: (regressor state dict in the released
    layout, causal masks and the ``unmapped`` entries included; released Mesh-VQ-VAE state
    dict, empty when the plugin state dict holds no tokenizer)."""
    children = {v: k for k, v in _RESNET_CHILDREN.items()}
    backbones = {v: k for k, v in _BACKBONES.items()}
    regressor: 'OrderedDict[str, Tensor]' = OrderedDict()
    tokenizer: 'OrderedDict[str, Tensor]' = OrderedDict()
    # HRNet backbones keep their names; ResNet-50 ones become torchvision child indices
    hrnet = {key.split('.', 1)[0] for key in state_dict
             if key.split('.', 1)[0] in backbones and key.split('.')[1] == 'transition1'}
    for key, value in state_dict.items():
        top, rest = key.split('.', 1)
        if key.startswith(TOKENIZER_PREFIX):
            tokenizer[key[len(TOKENIZER_PREFIX):]] = value
        elif top in backbones:
            child, tail = rest.split('.', 1)
            child = child if top in hrnet else children[child]
            regressor[f'{backbones[top]}.{child}.{tail}'] = value
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
    regressor.update(unmapped or {})
    return regressor, (mesh_vqvae_plugin_to_official(tokenizer) if tokenizer
                       else OrderedDict())
