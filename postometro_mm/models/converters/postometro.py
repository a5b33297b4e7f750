"""Reference PostoMETRO state-dict layout ↔ ``MeshEstimator`` layout (SPEC §1.3), lossless.

=================================================  ===========================================
reference (PostoMETRO-Paper)                       plugin (MeshEstimator)
=================================================  ===========================================
``backbone.*`` (PoseResNet-50 / pose HRNet-W48)    ``backbone.*`` (mmpose ResNet / HRNet: same
                                                   names)
``backbone.final_layer.*`` (the pose HRNet's       none: returned as *unmapped*, restored by
heatmap conv, unused by PostoMETRO)                the inverse
``conv_1x1``, ``{cam,joint,vertex}_token_embed``,  ``head.<same name>``
``transformer_{1,2}``, ``dim_reduce_*``,
``xyz_regressor``, ``cam_predictor``,
``coarse2intermediate_upsample``
``start_embed``                                    ``neck.start_embed``
``encoder.{i}.layernorm{1,2}``                     ``neck.mixers.{i}.layernorm{1,2}``
``encoder.{i}.MLP_token.ff.{j}``                   ``neck.mixers.{i}.token_mlp.{j}``
``encoder.{i}.MLP_channel.ff.{j}``                 ``neck.mixers.{i}.channel_mlp.{j}``
``encoder_layer_norm``                             ``neck.norm``
``token_mlp``                                      ``neck.token_mlp``
``token_mixer.ff.{0,1}``                           ``neck.score_fusion.{0,1}``
``pct.*``                                          ``pose_tokenizer.*`` (PCT converter)
=================================================  ===========================================

Keys the plugin has no place for (the pose HRNet's ``final_layer``, or modules of the reference
code's optional variants, e.g. ``smpl_parameter_regressor``) are returned separately as
*unmapped*; keep them (the CLI stores them in the output checkpoint) to convert back losslessly.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

from torch import Tensor

from .pct import pct_official_to_plugin, pct_plugin_to_official

StateDict = Dict[str, Tensor]

HEAD_MODULES = ('conv_1x1', 'cam_token_embed', 'joint_token_embed', 'vertex_token_embed',
                'transformer_1', 'transformer_2', 'dim_reduce_enc_cam', 'dim_reduce_enc_img',
                'dim_reduce_dec', 'dim_reduce_enc_pct', 'xyz_regressor', 'cam_predictor',
                'coarse2intermediate_upsample')
UNMAPPED_BACKBONE_MODULES = ('final_layer', )

# (reference template, plugin template): ``{name}`` matches one dot-free key segment.
NECK_RULES: List[Tuple[str, str]] = [
    ('start_embed.{p}', 'neck.start_embed.{p}'),
    ('encoder.{i}.layernorm1.{p}', 'neck.mixers.{i}.layernorm1.{p}'),
    ('encoder.{i}.layernorm2.{p}', 'neck.mixers.{i}.layernorm2.{p}'),
    ('encoder.{i}.MLP_token.ff.{j}.{p}', 'neck.mixers.{i}.token_mlp.{j}.{p}'),
    ('encoder.{i}.MLP_channel.ff.{j}.{p}', 'neck.mixers.{i}.channel_mlp.{j}.{p}'),
    ('encoder_layer_norm.{p}', 'neck.norm.{p}'),
    ('token_mlp.{p}', 'neck.token_mlp.{p}'),
    ('token_mixer.ff.{j}.{p}', 'neck.score_fusion.{j}.{p}'),
]


def _template_regex(template: str) -> str:
    pieces = re.split(r'(\{\w+\})', template)
    return ''.join(f'(?P<{p[1:-1]}>[^.]+)' if p.startswith('{') else re.escape(p)
                   for p in pieces)


def _rename(key: str, rules: List[Tuple[str, str]]) -> Optional[str]:
    """Rename ``key`` by the first (source, target) template pair whose source matches."""
    for source, target in rules:
        match = re.fullmatch(_template_regex(source), key)
        if match:
            return target.format(**match.groupdict())
    return None


_NECK_TO_OFFICIAL = [(plugin, official) for official, plugin in NECK_RULES]


def postometro_official_to_plugin(state_dict: Mapping[str, Tensor]
                                  ) -> Tuple[StateDict, StateDict]:
    """Convert a reference PostoMETRO state dict to the ``MeshEstimator`` layout.

    Args:
        state_dict (Mapping[str, Tensor]): reference keys (see the module table).

    Returns:
        tuple: ``(plugin_state_dict, unmapped)``; ``unmapped`` holds the reference entries the
        plugin model has no parameter for (see the module docstring).
    """
    plugin, unmapped = OrderedDict(), OrderedDict()
    pct = OrderedDict()
    for key, value in state_dict.items():
        module = key.split('.', 1)[0]
        if key.startswith('pct.'):
            pct[key[len('pct.'):]] = value
        elif module == 'backbone':
            sub = key.split('.', 2)[1]
            (unmapped if sub in UNMAPPED_BACKBONE_MODULES else plugin)[key] = value
        elif module in HEAD_MODULES:
            plugin[f'head.{key}'] = value
        else:
            new_key = _rename(key, NECK_RULES)
            if new_key is None:
                unmapped[key] = value
            else:
                plugin[new_key] = value
    if pct:
        for key, value in pct_official_to_plugin(pct).items():
            plugin[f'pose_tokenizer.{key}'] = value
    return plugin, unmapped


def postometro_plugin_to_official(state_dict: Mapping[str, Tensor],
                                  unmapped: Optional[Mapping[str, Tensor]] = None) -> StateDict:
    """Inverse of :func:`postometro_official_to_plugin`.

    Args:
        state_dict (Mapping[str, Tensor]): ``MeshEstimator`` state dict.
        unmapped (Mapping[str, Tensor], optional): the second output of the forward conversion,
            restored unchanged.

    Raises:
        KeyError: a key outside ``backbone.``, ``head.``, ``neck.``, ``pose_tokenizer.``.
    """
    official, pct = OrderedDict(), OrderedDict()
    for key, value in state_dict.items():
        if key.startswith('backbone.'):
            official[key] = value
        elif key.startswith('head.'):
            official[key[len('head.'):]] = value
        elif key.startswith('pose_tokenizer.'):
            pct[key[len('pose_tokenizer.'):]] = value
        elif key.startswith('neck.'):
            new_key = _rename(key, _NECK_TO_OFFICIAL)
            if new_key is None:
                raise KeyError(f'postometro_plugin_to_official: no reference name for "{key}"')
            official[new_key] = value
        else:
            raise KeyError(f'postometro_plugin_to_official: unexpected key "{key}" (expected '
                           'backbone./head./neck./pose_tokenizer. keys of a MeshEstimator)')
    if pct:
        for key, value in pct_plugin_to_official(pct).items():
            official[f'pct.{key}'] = value
    official.update(unmapped or {})
    return official
