"""MeshVQVAE on the released connection files: the reference `medium` layout, tokens and
decoding, the training losses, and the lossless converter of the released checkpoint layout."""
import importlib.util
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmpose.registry import MODELS
from postometro_mm.models.converters import (mesh_vqvae_official_to_plugin,
                                             mesh_vqvae_plugin_to_official)
from postometro_mm.models.estimators.mesh_vqvae import (center_on_vertex_mean,
                                                         vertex_to_vertex_error)

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / 'configs' / '_base_' / 'models' / 'mesh_vqvae_medium.py'


@pytest.fixture(scope='module')
def connection_dir(reference_data_dir) -> Path:
    return reference_data_dir / 'mesh_vqvae_connections'


@pytest.fixture(scope='module')
def medium(connection_dir):
    cfg = Config.fromfile(str(CONFIG))
    cfg.model.connection_dir = str(connection_dir)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def _reference_layout(reference_data_dir, name: str = 'medium') -> dict:
    layout = {}
    for line in (reference_data_dir / 'official_state_dicts' /
                 f'mesh_vqvae_{name}.txt').read_text().splitlines():
        key, shape = line.split()
        layout[key] = tuple(int(s) for s in shape.split('x'))
    return layout


def test_medium_model_has_the_reference_layout_and_parameter_count(medium, reference_data_dir):
    reference = _reference_layout(reference_data_dir)
    official = mesh_vqvae_plugin_to_official(medium.state_dict())
    assert {k: tuple(v.shape) for k, v in official.items()} == reference
    # the reference counts its autoencoder once, plus the codebook and _ema_w parameters
    autoencoder = sum(p.numel() for p in medium.parameters())
    assert autoencoder + 2 * 512 * 9 == 2_584_682
    assert (medium.num_tokens, medium.code_dims) == (54, 9)


def test_small_model_has_the_reference_layout(connection_dir, reference_data_dir):
    cfg = Config.fromfile(str(CONFIG.with_name('mesh_vqvae_small.py')))
    cfg.model.connection_dir = str(connection_dir)
    small = MODELS.build(cfg.model).eval()
    official = mesh_vqvae_plugin_to_official(small.state_dict())
    assert {k: tuple(v.shape) for k, v in official.items()} == _reference_layout(
        reference_data_dir, 'small')
    back = mesh_vqvae_official_to_plugin(official)
    assert all(torch.equal(back[k], v) for k, v in small.state_dict().items())
    meshes = torch.randn(2, 6890, 3) * 0.3
    assert small.encode(meshes).shape == (2, 400)
    assert small(meshes).shape == (2, 6890, 3)


def test_tokens_decode_to_meshes_and_reconstruct(medium):
    medium.eval()
    meshes = torch.randn(3, 6890, 3) * 0.3 + torch.tensor([0.5, -1.0, 3.0])
    indices = medium.encode(meshes)
    assert indices.shape == (3, 54) and indices.dtype == torch.int64
    assert int(indices.max()) < 512
    decoded = medium.decode(indices)
    assert decoded.shape == (3, 6890, 3)
    codebook = medium.quantizer.codebook.clone()
    out = medium.reconstruct(meshes)
    assert torch.equal(out['indices'], indices)
    torch.testing.assert_close(out['vertices'], decoded)
    assert torch.equal(medium.quantizer.codebook, codebook)  # eval: no EMA update
    # a translated mesh gives the same tokens: the input is centred on its vertex mean
    assert torch.equal(medium.encode(meshes + torch.tensor([1.0, 2.0, -3.0])), indices)
    # any batch size: one mesh at a time gives the same tokens and meshes
    assert torch.equal(torch.cat([medium.encode(m[None]) for m in meshes]), indices)
    with pytest.raises(ValueError, match=r'expects meshes \(B, 6890, 3\)'):
        medium(torch.randn(2, 100, 3))


def test_losses_and_codebook_update_in_training(medium):
    medium.train()
    meshes = torch.randn(2, 6890, 3) * 0.3
    with torch.no_grad():  # the commitment loss with the codebook before this step's update
        latent = medium.encode_latent(meshes)
        codes = medium.quantizer.lookup(medium.quantizer.nearest(latent))
        expected_commitment = 0.25 * ((codes - latent) ** 2).mean()
        expected_v2v = vertex_to_vertex_error(medium.decode_codes(codes),
                                              center_on_vertex_mean(meshes))
    codebook = medium.quantizer.codebook.clone()
    losses = medium(meshes, mode='loss')
    assert set(losses) == {'loss_v2v', 'loss_commitment'}
    torch.testing.assert_close(losses['loss_commitment'], expected_commitment)
    torch.testing.assert_close(losses['loss_v2v'], expected_v2v)
    assert not torch.equal(medium.quantizer.codebook, codebook)  # the EMA step
    sum(losses.values()).backward()
    assert medium.encoder[0].weights.grad is not None and medium.decoder[-1].bias.grad is not None


def test_vertex_to_vertex_error_by_hand():
    target = center_on_vertex_mean(torch.randn(1, 4, 3))
    offsets = torch.tensor([0.1, -0.3, 0.5, -0.3])  # zero mean: re-centring keeps them
    pred = target + torch.tensor([2.0, -1.0, 0.5])  # a global shift is forgiven
    pred[..., 2] += offsets
    expected = offsets.abs().mean()
    assert float(vertex_to_vertex_error(pred, target)) == pytest.approx(float(expected))


def test_released_layout_round_trip_and_checks(medium):
    official = mesh_vqvae_plugin_to_official(medium.state_dict())
    assert list(official)[0].startswith('encoder.model.')
    back = mesh_vqvae_official_to_plugin(official)
    assert back.keys() == medium.state_dict().keys()
    assert all(torch.equal(back[k], v) for k, v in medium.state_dict().items())
    broken = dict(official)
    broken['decoder.model.bias0'] = broken['decoder.model.bias0'] + 1
    with pytest.raises(ValueError, match='encoder.model.bias0 and decoder.model.bias0 differ'):
        mesh_vqvae_official_to_plugin(broken)
    with pytest.raises(ValueError, match='unknown key "extra"'):
        mesh_vqvae_official_to_plugin({**official, 'extra': torch.zeros(1)})


def test_converter_tool_checks_keys_and_round_trips(medium, connection_dir, tmp_path, capsys,
                                                    monkeypatch):
    spec = importlib.util.spec_from_file_location(
        'mesh_vqvae_to_plugin', REPO / 'tools' / 'model_converters' / 'mesh_vqvae_to_plugin.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    released = tmp_path / 'mesh_vqvae_medium.pth'
    official = mesh_vqvae_plugin_to_official(medium.state_dict())
    torch.save({'model': official}, released)
    monkeypatch.chdir(tmp_path)  # no connection files here: found by --cfg-options
    dst = tmp_path / 'plugin.pth'
    assert tool.main([str(released), str(dst), '--config', str(CONFIG), '--cfg-options',
                      f'model.connection_dir={connection_dir}']) == 0
    report = capsys.readouterr().out
    for kind in ('missing keys', 'unexpected keys', 'shape mismatches'):
        assert f'{kind} (' in report and '): 0' in report.split(kind)[1].split('\n')[0]
    back = tmp_path / 'released_again.pth'
    assert tool.main([str(dst), str(back), '--reverse']) == 0
    restored = torch.load(back, weights_only=True)['model']
    assert list(restored) == list(official)
    assert all(torch.equal(restored[k], v) for k, v in official.items())


def test_predictions_feed_the_reconstruction_metric(medium):
    from postometro_mm.evaluation.metrics import MeshReconstructionMetric
    medium.eval()
    meshes = torch.randn(2, 6890, 3) * 0.3
    metric = MeshReconstructionMetric()
    with torch.no_grad():
        metric.process(dict(inputs=meshes), medium(meshes, mode='predict'))
        expected = vertex_to_vertex_error(medium(meshes), center_on_vertex_mean(meshes))
    result = metric.compute_metrics(metric.results)
    assert result['V2V'] == pytest.approx(1000 * float(expected), rel=1e-4)
    assert 0 < result['PA-V2V'] <= result['V2V']
