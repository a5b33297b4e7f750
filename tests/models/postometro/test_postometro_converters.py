"""Reference PostoMETRO / FastMETRO state dicts ↔ MeshEstimator, on the real key lists."""
from pathlib import Path

import pytest
import torch
from mmengine.registry import DefaultScope

from mmpose.registry import MODELS
from postometro_mm.models.converters import (fastmetro_official_to_plugin,
                                             postometro_official_to_plugin,
                                             postometro_plugin_to_official)
from postometro_mm.utils.model_configs import mesh_model_config

REPO = Path(__file__).resolve().parents[3]
# reference key list -> the repository config of that model
VARIANTS = {
    'PostoMETRO-S_PoseResNet50_PCTbase-guide0.5.txt': 'postometro-s_r50_mixed-256x256.py',
    'PostoMETRO-M_HRNetW48pose_PCTbase-guide0.0.txt': 'postometro-m_hrnet-w48_mixed-256x256.py',
    'PostoMETRO-L_HRNetW48pose_PCTbase-guide0.5.txt': 'postometro-l_hrnet-w48_mixed-256x256.py',
}


def reference_state_dict(key_file: Path) -> dict:
    """Exactly the listed keys and shapes; one random value per tensor (expanded, no memory);
    ``pct.extra_backbone.*`` shares its ``pct.backbone.*`` twin like the reference module."""
    state = {}
    for line in key_file.read_text().splitlines():
        name, _, shape = line.partition(' ')
        size = tuple(int(d) for d in shape.split('x')) if shape.strip() else ()
        if name.endswith('num_batches_tracked'):
            state[name] = torch.randint(0, 1000, ()).expand(size)
        else:
            state[name] = torch.randn(()).expand(size)
    for name in state:
        if name.startswith('pct.extra_backbone.'):
            state[name] = state['pct.backbone.' + name[len('pct.extra_backbone.'):]]
    return state


@pytest.mark.parametrize('key_file', sorted(VARIANTS))
def test_reference_layout_round_trip(reference_data_dir, key_file):
    official = reference_state_dict(reference_data_dir / 'official_state_dicts' / key_file)
    model_cfg = mesh_model_config(str(REPO / 'configs' / 'postometro' / VARIANTS[key_file]),
                                  str(reference_data_dir / 'smpl_topology'))
    with DefaultScope.overwrite_default_scope('mmpose'), torch.device('meta'):
        model = MODELS.build(model_cfg)

    plugin, unmapped = postometro_official_to_plugin(official)
    expected = model.state_dict()
    assert set(plugin) == set(expected)
    for key, value in plugin.items():
        assert value.shape == expected[key].shape, key
    meta = {k: torch.empty(v.shape, dtype=v.dtype, device='meta') for k, v in plugin.items()}
    result = model.load_state_dict(meta, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    if 'HRNet' in key_file:  # the pose HRNet's heatmap layer has no place in mmpose's HRNet
        assert sorted(unmapped) == ['backbone.final_layer.bias', 'backbone.final_layer.weight']
    else:
        assert not unmapped

    back = postometro_plugin_to_official(plugin, unmapped)
    assert set(back) == set(official)
    for key, value in official.items():
        assert torch.equal(back[key], value), key


def test_neck_and_head_keys_map_as_documented():
    value = torch.zeros(1)
    plugin, unmapped = postometro_official_to_plugin({
        'encoder.2.MLP_token.ff.3.weight': value, 'encoder.0.layernorm2.bias': value,
        'token_mixer.ff.1.weight': value, 'encoder_layer_norm.weight': value,
        'token_mlp.bias': value, 'transformer_2.decoder.norm.weight': value,
        'smpl_parameter_regressor.fc.weight': value})
    assert set(plugin) == {'neck.mixers.2.token_mlp.3.weight', 'neck.mixers.0.layernorm2.bias',
                           'neck.score_fusion.1.weight', 'neck.norm.weight',
                           'neck.token_mlp.bias', 'head.transformer_2.decoder.norm.weight'}
    assert list(unmapped) == ['smpl_parameter_regressor.fc.weight']
    with pytest.raises(KeyError, match='data_preprocessor'):
        postometro_plugin_to_official({'data_preprocessor.mean': value})


@pytest.mark.parametrize('official, expected, expected_unmapped', [
    pytest.param(  # torchvision ResNet-50 trunk: nn.Sequential indices -> mmpose names
        ['backbone.0.weight', 'backbone.1.running_mean', 'backbone.4.0.conv1.weight',
         'backbone.7.2.bn3.bias', 'conv_1x1.weight', 'transformer_1.encoder.norm.weight',
         'intermediate2fine_upsample.weight'],
        {'backbone.conv1.weight', 'backbone.bn1.running_mean', 'backbone.layer1.0.conv1.weight',
         'backbone.layer4.2.bn3.bias', 'head.conv_1x1.weight',
         'head.transformer_1.encoder.norm.weight'},
        {'intermediate2fine_upsample.weight'}, id='resnet'),
    pytest.param(  # classification HRNet-W64: its head and the conv_1x1 reading it are dropped
        ['backbone.stage4.0.branches.3.0.conv1.weight', 'backbone.incre_modules.0.0.conv1.weight',
         'backbone.classifier.weight', 'conv_1x1.weight', 'cam_predictor.bias'],
        {'backbone.stage4.0.branches.3.0.conv1.weight', 'head.cam_predictor.bias'},
        {'backbone.incre_modules.0.0.conv1.weight', 'backbone.classifier.weight',
         'conv_1x1.weight'}, id='hrnet'),
])
def test_fastmetro_checkpoint_keys(official, expected, expected_unmapped):
    plugin, unmapped = fastmetro_official_to_plugin({k: torch.zeros(1) for k in official})
    assert set(plugin) == expected
    assert set(unmapped) == expected_unmapped


def test_fastmetro_transformer_loads_into_fastmetro_model(synthetic_body_model):
    """A FastMETRO-layout state dict (ResNet trunk + transformer) loads strictly."""
    from postometro_test_utils import tiny_backbone_cfg, tiny_head_cfg
    model = MODELS.build(dict(type='MeshEstimator', backbone=tiny_backbone_cfg(),
                              head=tiny_head_cfg(synthetic_body_model, with_pose_tokens=False),
                              pose_token_source='none'))
    names = {'conv1': '0', 'bn1': '1', 'layer1': '4', 'layer2': '5', 'layer3': '6',
             'layer4': '7'}
    fastmetro = {}
    for key, value in model.state_dict().items():
        if key.startswith('backbone.'):
            child, rest = key[len('backbone.'):].split('.', 1)
            fastmetro[f'backbone.{names[child]}.{rest}'] = value.clone()
        else:
            fastmetro[key[len('head.'):]] = value.clone()
    plugin, unmapped = fastmetro_official_to_plugin(fastmetro)
    assert not unmapped
    model.load_state_dict(plugin, strict=True)
