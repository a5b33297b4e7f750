"""The model-converter CLI tools: key report, --force, atomic output, lossless --reverse."""
import importlib.util
from pathlib import Path

import pytest
import torch
from postometro_test_utils import tiny_backbone_cfg, tiny_head_cfg, tiny_neck_cfg

from mmpose.registry import MODELS
from postometro_mm.models.converters import postometro_plugin_to_official

TOOLS = Path(__file__).resolve().parents[3] / 'tools' / 'model_converters'


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny_setup(synthetic_body_model, tmp_path):
    model_cfg = dict(type='MeshEstimator', backbone=tiny_backbone_cfg(),
                     neck=tiny_neck_cfg(in_channels=2, num_tokens=17),
                     head=tiny_head_cfg(synthetic_body_model, with_body_model=False),
                     pose_token_source='raw_keypoints')
    config = tmp_path / 'tiny_postometro.py'
    config.write_text(f"default_scope = 'mmpose'\nmodel = {model_cfg!r}\n")
    model = MODELS.build(model_cfg)
    official = postometro_plugin_to_official(model.state_dict())
    official['backbone.final_layer.weight'] = torch.randn(17, 48, 1, 1)
    src = tmp_path / 'reference.pth'
    torch.save({'state_dict': official}, src)
    return config, src, official


def test_postometro_tool_round_trip(tiny_setup, tmp_path, capsys):
    config, src, official = tiny_setup
    tool = _tool('postometro_to_plugin')
    dst = tmp_path / 'plugin.pth'
    assert tool.main([str(src), str(dst), '--config', str(config)]) == 0
    report = capsys.readouterr().out
    assert 'missing keys (in the model, not in the checkpoint): 0' in report
    assert 'unexpected keys (in the checkpoint, not in the model): 0' in report
    assert 'backbone.final_layer.weight' in report
    saved = torch.load(dst, weights_only=False)
    assert set(saved['official_unmapped']) == {'backbone.final_layer.weight'}
    assert all(k.startswith(('backbone.', 'neck.', 'head.')) for k in saved['state_dict'])

    with pytest.raises(FileExistsError, match='--force'):
        tool.main([str(src), str(dst)])
    assert tool.main([str(src), str(dst), '--force']) == 0
    assert not list(tmp_path.glob('.tmp_*'))

    back = tmp_path / 'reference_again.pth'
    assert tool.main([str(dst), str(back), '--reverse']) == 0
    restored = torch.load(back, weights_only=False)
    assert set(restored) == set(official)
    assert all(torch.equal(restored[k], v) for k, v in official.items())


def test_postometro_tool_reports_unexpected_keys(tiny_setup, tmp_path, capsys):
    config, src, official = tiny_setup
    official['cam_predictor.extra'] = torch.zeros(1)  # becomes head.cam_predictor.extra
    torch.save(official, src)
    tool = _tool('postometro_to_plugin')
    assert tool.main([str(src), str(tmp_path / 'out.pth'), '--config', str(config)]) == 1
    assert 'head.cam_predictor.extra' in capsys.readouterr().out


def test_fastmetro_tool(tiny_setup, tmp_path, capsys):
    config, _, official = tiny_setup
    fastmetro = {k: v for k, v in official.items()
                 if not k.startswith(('start_embed', 'encoder.', 'encoder_layer_norm',
                                      'token_mlp', 'token_mixer', 'dim_reduce_enc_pct',
                                      'backbone.final_layer'))}
    src = tmp_path / 'fastmetro.bin'
    torch.save(fastmetro, src)
    dst = tmp_path / 'fastmetro_plugin.pth'
    assert _tool('fastmetro_to_plugin').main([str(src), str(dst), '--config', str(config)]) == 0
    report = capsys.readouterr().out
    assert 'unexpected keys (in the checkpoint, not in the model): 0' in report
    assert 'neck.start_embed.weight' in report  # the pose branch is missing, as expected
    saved = torch.load(dst, weights_only=False)
    assert not saved['official_unmapped']
    assert all(k.startswith(('backbone.', 'head.')) for k in saved['state_dict'])
