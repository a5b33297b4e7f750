"""Reference PostoMETRO / FastMETRO state dicts ↔ MeshEstimator, on the real key lists."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmpose.registry import MODELS
from postometro_mm.models.converters import (fastmetro_official_to_plugin,
                                             postometro_official_to_plugin,
                                             postometro_plugin_to_official)

REPO = Path(__file__).resolve().parents[3]
PCT_CONFIGS = {0.5: REPO / 'configs/pct/pct_classifier_swinv2-base_coco-256x256.py',
               0.0: REPO / 'configs/pct/pct_classifier_swinv2-base-noimgguide_coco-256x256.py'}
HRNET_W48 = dict(
    type='HRNet', in_channels=3,
    extra=dict(
        stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ),
                    num_channels=(64, )),
        stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(4, 4),
                    num_channels=(48, 96)),
        stage3=dict(num_modules=4, num_branches=3, block='BASIC', num_blocks=(4, 4, 4),
                    num_channels=(48, 96, 192)),
        stage4=dict(num_modules=3, num_branches=4, block='BASIC', num_blocks=(4, 4, 4, 4),
                    num_channels=(48, 96, 192, 384), multiscale_output=True)))
VARIANTS = {
    'PostoMETRO-S_PoseResNet50_PCTbase-guide0.5.txt':
        (dict(type='ResNet', depth=50), 2048, 1, 0.5),
    'PostoMETRO-M_HRNetW48pose_PCTbase-guide0.0.txt': (HRNET_W48, 384, 2, 0.0),
    'PostoMETRO-L_HRNetW48pose_PCTbase-guide0.5.txt': (HRNET_W48, 384, 3, 0.5),
}


def pct_base_cfg(guide_ratio: float) -> dict:
    """PCT-Base stage-2 model of the repository's PCT config, frozen, without checkpoints."""
    model = Config.fromfile(str(PCT_CONFIGS[guide_ratio]))['model'].to_dict()
    model['backbone'].pop('init_cfg', None)
    model['head']['tokenizer'].pop('init_cfg', None)
    model.update(frozen=True, test_cfg={})
    model.pop('data_preprocessor')
    return model


def postometro_cfg(topology: Path, backbone: dict, in_channels: int, num_layers: int,
                   guide_ratio: float) -> dict:
    return dict(
        type='MeshEstimator', backbone=backbone,
        neck=dict(type='PoseTokenModulator'),
        head=dict(type='PostoMETROHead', in_channels=in_channels,
                  mesh_sampler=dict(type='MeshSampler',
                                    filename=str(topology / 'mesh_downsampling.npz'),
                                    allow_pickle=True),
                  joint_regressor=str(topology / 'J_regressor_h36m_correct.npy'),
                  num_encoder_layers=num_layers, num_decoder_layers=num_layers),
        pose_tokenizer=pct_base_cfg(guide_ratio))


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
    backbone, in_channels, num_layers, guide = VARIANTS[key_file]
    with torch.device('meta'):
        model = MODELS.build(postometro_cfg(reference_data_dir / 'smpl_topology', backbone,
                                            in_channels, num_layers, guide))

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


def test_fastmetro_resnet_and_hrnet_checkpoints():
    value = torch.zeros(1)
    plugin, unmapped = fastmetro_official_to_plugin({
        'backbone.0.weight': value, 'backbone.1.running_mean': value,
        'backbone.4.0.conv1.weight': value, 'backbone.7.2.bn3.bias': value,
        'conv_1x1.weight': value, 'transformer_1.encoder.norm.weight': value,
        'intermediate2fine_upsample.weight': value})
    assert set(plugin) == {'backbone.conv1.weight', 'backbone.bn1.running_mean',
                           'backbone.layer1.0.conv1.weight', 'backbone.layer4.2.bn3.bias',
                           'head.conv_1x1.weight', 'head.transformer_1.encoder.norm.weight'}
    assert list(unmapped) == ['intermediate2fine_upsample.weight']

    plugin, unmapped = fastmetro_official_to_plugin({
        'backbone.stage4.0.branches.3.0.conv1.weight': value,
        'backbone.incre_modules.0.0.conv1.weight': value, 'backbone.classifier.weight': value,
        'conv_1x1.weight': value, 'cam_predictor.bias': value})
    assert set(plugin) == {'backbone.stage4.0.branches.3.0.conv1.weight',
                           'head.cam_predictor.bias'}
    assert set(unmapped) == {'backbone.incre_modules.0.0.conv1.weight',
                             'backbone.classifier.weight', 'conv_1x1.weight'}


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
