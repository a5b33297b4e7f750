"""FastMETRO checkpoints (postech-ami/FastMETRO, body) → ``MeshEstimator`` layout.

FastMETRO shares PostoMETRO's transformer, token, regressor and upsampling modules (no pose
branch, so no ``dim_reduce_enc_pct``): they move under ``head.``. Backbones:

* ResNet-50: torchvision's network as ``nn.Sequential`` (``backbone.0`` conv1, ``backbone.1``
  bn1, ``backbone.4``–``7`` layer1–4) → mmpose ``ResNet(depth=50)`` names.
* HRNet-W64 (classification variant): the trunk (stem, ``layer1``, ``transition*``,
  ``stage*``) has mmpose ``HRNet`` names already; its classification head (``incre_modules``,
  ``downsamp_modules``, ``final_layer``, ``classifier``) has no mmpose counterpart and is
  returned as unmapped — and so is ``conv_1x1``, which reads that head's 2048-channel output
  (mmpose's HRNet-W64 gives 512 channels on its lowest-resolution branch): train a new one.

Optional FastMETRO modules (``intermediate2fine_upsample``, ``smpl_parameter_regressor``) are
unmapped too. Load the result with ``strict=False`` when initialising a PostoMETRO model.
"""
import re
from collections import OrderedDict
from typing import Dict, Mapping, Tuple

from torch import Tensor

from .postometro import HEAD_MODULES

StateDict = Dict[str, Tensor]

TORCHVISION_RESNET_CHILDREN = {'0': 'conv1', '1': 'bn1', '4': 'layer1', '5': 'layer2',
                               '6': 'layer3', '7': 'layer4'}
HRNET_CLS_HEAD_MODULES = ('incre_modules', 'downsamp_modules', 'final_layer', 'classifier')


def fastmetro_official_to_plugin(state_dict: Mapping[str, Tensor]
                                 ) -> Tuple[StateDict, StateDict]:
    """Convert a FastMETRO body-model state dict.

    Returns:
        tuple: ``(plugin_state_dict, unmapped)`` (see the module docstring).
    """
    hrnet_cls_head = any(k.split('.')[1] in HRNET_CLS_HEAD_MODULES
                         for k in state_dict if k.startswith('backbone.'))
    plugin, unmapped = OrderedDict(), OrderedDict()
    for key, value in state_dict.items():
        module = key.split('.', 1)[0]
        if module == 'backbone':
            child, rest = key.split('.', 2)[1:]
            if child in HRNET_CLS_HEAD_MODULES:
                unmapped[key] = value
            elif re.fullmatch(r'\d+', child):
                if child not in TORCHVISION_RESNET_CHILDREN:
                    raise KeyError(f'fastmetro_official_to_plugin: "{key}" is no child of '
                                   "torchvision's ResNet trunk")
                plugin[f'backbone.{TORCHVISION_RESNET_CHILDREN[child]}.{rest}'] = value
            else:
                plugin[key] = value
        elif module == 'conv_1x1' and hrnet_cls_head:
            unmapped[key] = value
        elif module in HEAD_MODULES:
            plugin[f'head.{key}'] = value
        else:
            unmapped[key] = value
    return plugin, unmapped
