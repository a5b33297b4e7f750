"""VQ-HPS on the plugin: the released key layouts (ResNet-50, with and without the causal token
classifier), the lossless converter, and a tiny model on the synthetic body (any batch size, any
input size, the prediction contract, and learning a handful of samples)."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

from postometro_mm.body_models.connection_hierarchy import write_connection_hierarchy
from postometro_mm.body_models.smpl_io import load_smpl_model_file
from postometro_mm.models.converters import (mesh_vqvae_plugin_to_official,
                                             vqhps_official_to_plugin, vqhps_plugin_to_official)
from postometro_mm.quickstart.pose_sampling import sample_betas, sample_body_pose

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / 'configs' / 'vqhps' / 'vqhps_r50_mixed-224x224.py'
HRNET_CONFIG = REPO / 'configs' / 'vqhps' / 'vqhps_hrnet-w48_mixed-224x224.py'


@pytest.fixture(scope='module', autouse=True)
def mmpose_scope():
    init_default_scope('mmpose')


def _reference_layout(reference_data_dir, name: str) -> dict:
    layout = {}
    for line in (reference_data_dir / 'official_state_dicts' / f'{name}.txt').read_text() \
            .splitlines():
        key, *shape = line.split()
        layout[key] = tuple(int(s) for s in shape[0].split('x')) if shape else ()
    return layout


def _layout_only_model(reference_data_dir, config: Path, autoregressive: bool):
    cfg = Config.fromfile(str(config))
    head = cfg.model.head
    head.update(autoregressive=autoregressive, joint_regressor=None, body_model=None)
    head.mesh_tokenizer.update(
        connection_dir=str(reference_data_dir / 'mesh_vqvae_connections'), init_cfg=None)
    for key in ('backbone', 'rotation_backbone'):
        cfg.model[key].init_cfg = None
    with torch.device('meta'):
        return MODELS.build(cfg.model)


@pytest.mark.parametrize('config, autoregressive, name', [
    (CONFIG, True, 'vqhps_resnet50'),
    (CONFIG, False, 'vqhps_resnet50_autoregFalse'),
    (HRNET_CONFIG, True, 'vqhps_hrnet_w48'),
    (HRNET_CONFIG, False, 'vqhps_hrnet_w48_autoregFalse'),
])
def test_released_layouts_load_and_convert_back(reference_data_dir, config, autoregressive,
                                                name):
    reference = _reference_layout(reference_data_dir, name)
    model = _layout_only_model(reference_data_dir, config, autoregressive)
    regressor, tokenizer = vqhps_plugin_to_official(model.state_dict())
    unused = {k for k in reference if '.final_layer.' in k}  # the pose HRNet's heatmap conv
    assert {k: tuple(v.shape) for k, v in regressor.items()} == {
        k: s for k, s in reference.items() if k not in unused}
    assert {k: tuple(v.shape) for k, v in tokenizer.items()} == _reference_layout(
        reference_data_dir, 'mesh_vqvae_medium')
    # the reference's parameter counts (random init), less the unused heatmap conv
    params = sum(p.numel() for n, p in model.named_parameters()
                 if not n.startswith('head.mesh_tokenizer.'))
    total = {'vqhps_resnet50': 58_927_241, 'vqhps_hrnet_w48': 141_645_817}.get(name)
    if total is not None:
        assert params == total - 2 * (24 * 48 + 24) * (config == HRNET_CONFIG)

    # a released file (random values, DDP prefix, a retired rotcam_feat key) round-trips
    generator = torch.Generator().manual_seed(0)
    released = {f'module.{k}': (torch.tril(torch.ones(shape)) if k.endswith('attn.mask')
                                else torch.randn(shape, generator=generator))
                for k, shape in reference.items() if not k.endswith('num_batches_tracked')}
    released['module.rotcam_feat.weight'] = torch.zeros(3)
    mesh_vqvae = mesh_vqvae_plugin_to_official(
        {k[len('head.mesh_tokenizer.'):]: torch.randn(v.shape, generator=generator)
         for k, v in model.state_dict().items() if k.startswith('head.mesh_tokenizer.')})
    plugin, unmapped = vqhps_official_to_plugin(released, mesh_vqvae)
    assert set(unmapped) == unused - {k for k in unused if 'num_batches' in k} | {
        'rotcam_feat.weight'}
    expected = {k for k in model.state_dict() if not k.endswith('num_batches_tracked')}
    assert set(plugin) == expected
    back, back_tokenizer = vqhps_plugin_to_official(plugin, unmapped)
    assert set(back) == {k[len('module.'):] for k in released}
    assert all(torch.equal(back[k[len('module.'):]], v) for k, v in released.items())
    assert all(torch.equal(back_tokenizer[k], v) for k, v in mesh_vqvae.items())


def test_hrnet_downsampled_concatenates_every_branch_at_stride_32():
    from mmpose.models.backbones import HRNet
    extra = dict(
        stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ),
                    num_channels=(8, )),
        stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1),
                    num_channels=(4, 8)),
        stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1),
                    num_channels=(4, 8, 16)),
        stage4=dict(num_modules=1, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                    num_channels=(4, 8, 16, 32), multiscale_output=True))
    torch.manual_seed(0)
    backbone = MODELS.build(dict(type='HRNetDownsampled', extra=extra))
    backbone.eval()  # mmpose's HRNet.train returns None
    x = torch.randn(2, 3, 96, 64)
    with torch.no_grad():
        out, = backbone(x)
        branches = HRNet.forward(backbone, x)
    assert out.shape == (2, 4 + 8 + 16 + 32, 3, 2)
    torch.testing.assert_close(out[:, -32:], branches[-1], rtol=0, atol=0)
    assert len(backbone.downsample_stage_1) == 9 and len(backbone.downsample_stage_3) == 3
    with pytest.raises(ValueError, match='multiscale_output'):
        MODELS.build(dict(type='HRNetDownsampled', extra=dict(
            extra, stage4=dict(extra['stage4'], multiscale_output=False))))


def test_bad_released_keys_are_named():
    with pytest.raises(ValueError, match='unknown key "extra.weight"'):
        vqhps_official_to_plugin({'extra.weight': torch.zeros(1)})
    with pytest.raises(ValueError, match='not a causal'):
        vqhps_official_to_plugin(
            {'transformer.dec_head.blocks.0.attn.mask': torch.ones(1, 1, 4, 4)})
    with pytest.raises(ValueError, match='unknown key "smpl_head.weight"'):
        vqhps_official_to_plugin({'module.smpl_head.weight': torch.zeros(1)})


# ---------------------------------------------------------------------- tiny model
@pytest.fixture(scope='module')
def tiny_config(synthetic_body_model, tmp_path_factory) -> Path:
    """The real config shrunk onto the synthetic body: ResNet-18/8 backbones, a 32-wide
    transformer, a Mesh-VQ-VAE of 20 tokens and 16 codes on a generated hierarchy."""
    body = synthetic_body_model
    count = body['num_vertices'][0]
    root = tmp_path_factory.mktemp('tiny_vqhps')
    faces = np.asarray(load_smpl_model_file(body['smpl_paths']['neutral'])['f'], np.int64)
    write_connection_hierarchy(faces, (count, 300, 80, 20), str(root / 'connections'))
    resnet = dict(type='ResNet', depth=18, base_channels=8, stem_channels=8, init_cfg=None)
    config = root / 'vqhps_tiny.py'
    config.write_text(
        f'_base_ = [{str(CONFIG)!r}]\n'
        f'model = dict(backbone={resnet!r}, rotation_backbone={resnet!r}, head=dict(\n'
        f'    in_channels=64, rot_in_channels=64, embed_dims=32, num_heads=4,\n'
        f'    feedforward_channels=64, joint_regressor={body["j_regressor_h36m"]!r},\n'
        f'    body_model=dict(type="GenderedSMPL", model_path={body["model_dir"]!r}),\n'
        f'    mesh_tokenizer=dict(connection_dir={str(root / "connections")!r},\n'
        f'                        num_vertices={count}, num_codes=16, init_cfg=None)))\n'
        f'visualizer = dict(faces={body["model_dir"]!r})\n')
    return config


@pytest.fixture(scope='module')
def tiny_model(tiny_config):
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(str(tiny_config)).model)


def _samples(rng, num: int):
    """Data samples with SMPL and 2D labels and crop metainfo, as PackMeshInputs packs them."""
    samples = []
    for _ in range(num):
        pose = np.zeros(72, np.float32)
        pose[:3] = rng.normal(0, 0.5, 3)
        pose[3:] = sample_body_pose(rng)
        labels = InstanceData(
            smpl_pose=torch.tensor(pose)[None], smpl_betas=torch.tensor(
                sample_betas(rng), dtype=torch.float32)[None],
            gender=torch.tensor([int(rng.integers(1, 3))]), has_smpl=torch.ones(1),
            joints_2d=torch.tensor(np.concatenate([rng.uniform(-0.8, 0.8, (24, 2)),
                                                   np.ones((24, 1))], 1),
                                   dtype=torch.float32)[None],
            has_2d=torch.ones(1))
        sample = PoseDataSample(metainfo=dict(input_center=np.array([100.0, 120.0]),
                                              input_scale=np.array([150.0, 150.0]),
                                              input_size=(224, 224)))
        sample.gt_instance_labels = labels
        samples.append(sample)
    return samples


def test_any_batch_and_input_size_gives_the_same_predictions(tiny_model):
    model = tiny_model.eval()
    images = torch.randn(32, 3, 224, 224)
    samples = _samples(np.random.default_rng(0), 32)
    with torch.no_grad():
        full = model.predict(images, samples)
        pred = full[0].pred_instances
        assert pred.vertices.shape == (1, model.head.mesh_tokenizer.num_vertices, 3)
        assert pred.keypoints_3d.shape == (1, 14, 3) and pred.keypoints.shape == (1, 14, 2)
        assert pred.token_indices.shape == (1, 20) and pred.token_probs.shape == (1, 20, 16)
        np.testing.assert_allclose(pred.token_probs.sum(-1), 1.0, rtol=1e-5)
        vertices = np.concatenate([s.pred_instances.vertices for s in full])
        tokens = np.concatenate([s.pred_instances.token_indices for s in full])
        for size in (1, 3):
            parts = [model.predict(images[i:i + size], _samples(np.random.default_rng(0),
                                                                 32)[i:i + size])
                     for i in range(0, 32, size)]
            parts = [s.pred_instances for part in parts for s in part]
            np.testing.assert_array_equal(
                np.concatenate([p.token_indices for p in parts]), tokens)
            np.testing.assert_allclose(np.concatenate([p.vertices for p in parts]), vertices,
                                       rtol=0, atol=1e-5)
        bigger = model.predict(torch.randn(2, 3, 256, 256), _samples(np.random.default_rng(1), 2))
        assert bigger[0].pred_instances.vertices.shape == pred.vertices.shape


def test_learns_a_handful_of_samples(tiny_model):
    model = tiny_model.train()
    rng = np.random.default_rng(2)
    images, samples = torch.randn(4, 3, 224, 224), _samples(rng, 4)
    head = model.head
    with torch.no_grad():
        valid = torch.ones(4, dtype=torch.bool)
        target_tokens = head.gt_tokens(samples, valid)
        target_meshes = head.mesh_tokenizer.decode(target_tokens)

    def mesh_error() -> float:
        model.eval()
        with torch.no_grad():
            feats, rot_feats = model.extract_feat(images)
            canonical = head.canonical_meshes(head.forward((feats, ), rot_feats)['logits'])
        model.train()
        return float((canonical - target_meshes).norm(dim=-1).mean())

    before = mesh_error()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    first = None
    for _ in range(60):
        losses = model.loss(images, samples)
        first = first or {k: float(v.detach()) for k, v in losses.items()}
        total = sum(v for k, v in losses.items() if k.startswith('loss'))
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
    assert set(losses) == {'loss_tokens', 'loss_rotation', 'loss_joints_2d', 'acc_tokens'}
    assert float(losses['acc_tokens']) > 0.9 > first['acc_tokens']
    assert float(losses['loss_rotation']) < first['loss_rotation']
    assert mesh_error() < 0.5 * before
    # the frozen tokenizer did not move
    assert not any(p.requires_grad for p in head.mesh_tokenizer.parameters())
    assert not head.mesh_tokenizer.training


def test_converter_tool_round_trip_with_key_check(reference_data_dir, tmp_path, run_script,
                                                   monkeypatch):
    generator = torch.Generator().manual_seed(0)

    def random_file(name: str, prefix: str = '') -> dict:
        state = {prefix + k: (torch.tril(torch.ones(s)) if k.endswith('attn.mask')
                              else torch.randn(s, generator=generator) if s else torch.tensor(0))
                 for k, s in _reference_layout(reference_data_dir, name).items()}
        torch.save({'model': state}, tmp_path / f'{name}.pth')
        return state

    regressor = random_file('vqhps_resnet50', prefix='module.')
    mesh_vqvae = random_file('mesh_vqvae_medium')
    for key in mesh_vqvae:  # one autoencoder shared by both halves, as the reference saves it
        if key.startswith('decoder.model.'):
            mesh_vqvae[key] = mesh_vqvae['encoder.model.' + key[len('decoder.model.'):]]
    torch.save({'model': mesh_vqvae}, tmp_path / 'mesh_vqvae_medium.pth')
    tool = REPO / 'tools' / 'model_converters' / 'vqhps_to_plugin.py'
    monkeypatch.chdir(tmp_path)  # no connection files here: found by --cfg-options
    status, err, out = run_script(
        tool, tmp_path / 'vqhps_resnet50.pth', tmp_path / 'plugin.pth', '--mesh-vqvae',
        tmp_path / 'mesh_vqvae_medium.pth', '--config', CONFIG, '--cfg-options',
        f'model.head.mesh_tokenizer.connection_dir={reference_data_dir}/mesh_vqvae_connections')
    assert status == 0, (err, out)
    for kind in ('missing keys', 'unexpected keys', 'shape mismatches'):
        assert f'{kind} (' in out and '): 0' in out.split(kind)[1].split('\n')[0]
    status, _, out = run_script(tool, tmp_path / 'plugin.pth', tmp_path / 'back.pth',
                                '--reverse', '--mesh-vqvae-out', tmp_path / 'back_vq.pth')
    assert status == 0, out
    back = torch.load(tmp_path / 'back.pth', weights_only=True)['model']
    assert set(back) == {k[len('module.'):] for k in regressor}
    assert all(torch.equal(back[k[len('module.'):]], v) for k, v in regressor.items())
    back_vq = torch.load(tmp_path / 'back_vq.pth', weights_only=True)['model']
    assert all(torch.equal(back_vq[k], v) for k, v in mesh_vqvae.items())


def test_inference_api_runs_a_vqhps_config(tiny_config):
    from postometro_mm.apis import inference_mesh, init_model
    model = init_model(str(tiny_config), None, device='cpu')
    assert model.head.has_init_pose  # its body model is an inference input, so it is kept
    image = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    pred = inference_mesh(model, image, bboxes=[[40, 20, 200, 230]])[0].pred_instances
    assert pred.vertices.shape == (1, model.head.mesh_tokenizer.num_vertices, 3)
    assert pred.keypoints.shape == (1, 14, 2) and pred.token_indices.shape == (1, 20)
