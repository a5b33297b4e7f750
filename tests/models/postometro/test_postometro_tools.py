"""The model-converter CLI tools: key report, --force, atomic output, lossless --reverse."""
import importlib.util
import shutil
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
    assert not list(tmp_path.glob('.*.tmp'))  # no temporary file left

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


def _fastmetro_state_dict(official: dict) -> dict:
    """The FastMETRO release layout of a reference PostoMETRO state dict: no pose branch."""
    return {k: v for k, v in official.items()
            if not k.startswith(('start_embed', 'encoder.', 'encoder_layer_norm', 'token_mlp',
                                 'token_mixer', 'dim_reduce_enc_pct', 'backbone.final_layer'))}


def test_fastmetro_tool(tiny_setup, tmp_path, capsys):
    config, _, official = tiny_setup
    src = tmp_path / 'fastmetro.bin'
    torch.save(_fastmetro_state_dict(official), src)
    dst = tmp_path / 'fastmetro_plugin.pth'
    assert _tool('fastmetro_to_plugin').main([str(src), str(dst), '--config', str(config)]) == 0
    report = capsys.readouterr().out
    assert 'unexpected keys (in the checkpoint, not in the model): 0' in report
    assert 'neck.start_embed.weight' in report  # the pose branch is missing, as expected
    saved = torch.load(dst, weights_only=False)
    assert not saved['official_unmapped']
    assert all(k.startswith(('backbone.', 'head.')) for k in saved['state_dict'])


@pytest.fixture
def project_without_smpl(tiny_setup, synthetic_body_model, tmp_path):
    """A checkout-like folder whose config names SMPL and regressor files that exist nowhere
    and the mesh sampler under its ``data/``, by paths relative to the checkout as in
    ``configs/_base_/body_model_paths.py``; the working directory is another folder."""
    _, src, official = tiny_setup
    project = tmp_path / 'project'
    (project / 'configs').mkdir(parents=True)
    (project / 'data' / 'body_models').mkdir(parents=True)
    shutil.copy(synthetic_body_model['mesh_sampler'],
                project / 'data' / 'body_models' / 'mesh_downsampling.npz')
    head = tiny_head_cfg(synthetic_body_model,
                         mesh_sampler=dict(type='MeshSampler',
                                           filename='data/body_models/mesh_downsampling.npz'),
                         joint_regressor='data/body_models/J_regressor_h36m_correct.npy',
                         body_model=dict(type='GenderedSMPL',
                                         model_path='data/body_models/smpl'),
                         mid_faces='data/body_models/mid_faces.npy')
    model_cfg = dict(type='MeshEstimator', backbone=tiny_backbone_cfg(),
                     neck=tiny_neck_cfg(in_channels=2, num_tokens=17), head=head,
                     pose_token_source='raw_keypoints')
    config = project / 'configs' / 'tiny_postometro.py'
    config.write_text(f"default_scope = 'mmpose'\nmodel = {model_cfg!r}\n")
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    return config, src, official, elsewhere


def _report_counts(report: str) -> dict:
    """``{'missing keys': n, ...}`` of a key report printed by the converters."""
    counts = {}
    for kind in ('missing keys', 'unexpected keys', 'shape mismatches'):
        line = next(line for line in report.splitlines() if line.startswith(kind))
        counts[kind] = int(line.rsplit(':', 1)[1])
    return counts


def test_converters_check_keys_without_smpl_from_any_directory(project_without_smpl,
                                                                 tmp_path, capsys,
                                                                 monkeypatch):
    config, src, official, elsewhere = project_without_smpl
    monkeypatch.chdir(elsewhere)
    dst = tmp_path / 'plugin.pth'
    assert _tool('postometro_to_plugin').main([str(src), str(dst), '--config', str(config)]) == 0
    assert _report_counts(capsys.readouterr().out) == {
        'missing keys': 0, 'unexpected keys': 0, 'shape mismatches': 0}
    assert dst.is_file()

    fast_src = tmp_path / 'fastmetro.bin'
    torch.save(_fastmetro_state_dict(official), fast_src)
    fast_dst = tmp_path / 'fastmetro_plugin.pth'
    assert _tool('fastmetro_to_plugin').main(
        [str(fast_src), str(fast_dst), '--config', str(config)]) == 0
    counts = _report_counts(capsys.readouterr().out)
    assert counts['unexpected keys'] == 0 and counts['shape mismatches'] == 0
    assert counts['missing keys'] > 0 and fast_dst.is_file()  # reported, allowed for FastMETRO


def test_converter_check_failure_still_writes_and_names_the_file(project_without_smpl,
                                                                 synthetic_body_model, tmp_path,
                                                                 capsys, monkeypatch):
    config, src, _, elsewhere = project_without_smpl
    monkeypatch.chdir(elsewhere)
    sampler = config.parents[1] / 'data' / 'body_models' / 'mesh_downsampling.npz'
    moved = tmp_path / 'sampler_elsewhere.npz'
    sampler.rename(moved)
    tool = _tool('postometro_to_plugin')
    dst = tmp_path / 'plugin.pth'
    assert tool.main([str(src), str(dst), '--config', str(config)]) == 1
    report = capsys.readouterr().out
    assert 'could not be built' in report and 'mesh_downsampling.npz' in report
    assert dst.is_file()  # written before the check

    assert tool.main([str(src), str(dst), '--force', '--config', str(config), '--cfg-options',
                      f'model.head.mesh_sampler.filename={moved}']) == 0
    assert _report_counts(capsys.readouterr().out)['missing keys'] == 0
