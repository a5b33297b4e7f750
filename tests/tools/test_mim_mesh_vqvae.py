"""`mim train` / `mim test` of the real Mesh-VQ-VAE training config on the synthetic body: AMASS-
format motion files for training, a SPIN-style held-out file for validation and test, a
connection hierarchy from the plugin's tool. The trained model reconstructs held-out meshes far
better than the mean training mesh, and decoding its tokens gives its reconstruction exactly."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from test_mim_postometro import installed_plugin, run_mim  # noqa: F401  (fixture)

from mmpose.registry import DATASETS, MODELS
from postometro_mm.body_models.connection_hierarchy import write_connection_hierarchy
from postometro_mm.body_models.smpl_io import load_smpl_model_file
from postometro_mm.quickstart.pose_sampling import sample_betas, sample_body_pose

REPO = Path(__file__).resolve().parents[2]
REAL_CONFIG = REPO / 'configs' / 'mesh_vqvae' / 'mesh-vqvae-medium_body-model-sequences.py'
ITERS = 200
NUM_TEST = 40


def _write_data(root: Path, rng: np.random.Generator) -> None:
    """40 AMASS-format (SMPL-H) training sequences of 6 frames, 40 held-out SPIN-style frames."""
    for s in range(40):
        poses = np.zeros((6, 156))
        poses[:, :3] = rng.normal(0, 1, (6, 3))  # any global orientation: it is removed
        poses[:, 3:66] = np.stack([sample_body_pose(rng)[:63] for _ in range(6)])
        folder = root / 'sequences' / f'subject{s % 4}'
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / f'motion{s}_poses.npz', poses=poses,
                 betas=np.concatenate([sample_betas(rng), np.zeros(6)]),
                 gender=np.array(['male', 'female'][s % 2]))
    pose = np.zeros((NUM_TEST, 72))
    pose[:, 3:] = np.stack([sample_body_pose(rng) for _ in range(NUM_TEST)])
    pose[:, 66:] = 0  # the hands at rest, as in the training data
    np.savez(root / 'held_out.npz', pose=pose,
             shape=np.stack([sample_betas(rng) for _ in range(NUM_TEST)]),
             gender=np.array(list('mf') * (NUM_TEST // 2)),
             seq_name=np.array(['held_out'] * NUM_TEST), frame_id=np.arange(NUM_TEST))


def _tiny_config(root: Path, body_model: dict) -> Path:
    """The real config on this data, with a faster recipe for 200 iterations."""
    count = body_model['num_vertices'][0]
    faces = load_smpl_model_file(body_model['smpl_paths']['neutral'])['f']
    write_connection_hierarchy(np.asarray(faces, np.int64), (count, 300, 80, 20),
                               str(root / 'connections'))
    pipeline = [dict(type='BuildBodyModelMesh',
                     body_model=dict(type='GenderedSMPL', model_path=body_model['model_dir'])),
                dict(type='PackMeshAutoencoderInputs')]
    loader = dict(num_workers=0, persistent_workers=False)
    held_out = dict(data_root=str(root), ann_file='held_out.npz', frame_stride=1,
                    pipeline=pipeline)
    config = root / 'mesh-vqvae_tiny.py'
    config.write_text(
        f'_base_ = [{str(REAL_CONFIG)!r}]\n'
        f'model = dict(connection_dir={str(root / "connections")!r}, num_vertices={count}, '
        'num_codes=64, dead_code_threshold=1.0)\n'
        f'train_dataloader = dict(**{loader!r}, dataset=dict(data_root={str(root)!r}, '
        f'ann_file="sequences", pipeline={pipeline!r}))\n'
        f'val_dataloader = dict(**{loader!r}, dataset=dict(**{held_out!r}))\n'
        f'test_dataloader = dict(**{loader!r}, dataset=dict(**{held_out!r}))\n'
        f'train_cfg = dict(max_iters={ITERS}, val_interval={ITERS})\n'
        'optim_wrapper = dict(optimizer=dict(lr=1e-3))\n'
        f'default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval={ITERS}))\n'
        'randomness = dict(seed=0)\n')
    return config


def _mean_mesh_error(cfg: Config) -> float:
    """V2V (mm) of predicting the mean training mesh for every held-out mesh."""
    train = DATASETS.build(dict(cfg.train_dataloader.dataset, frames='all'))
    test = DATASETS.build(cfg.test_dataloader.dataset)
    mean = np.mean([train[i]['inputs'].numpy() for i in range(len(train))], axis=0)
    return 1000 * float(np.mean([np.linalg.norm(test[i]['inputs'].numpy() - mean, axis=-1).mean()
                                 for i in range(len(test))]))


def test_mesh_vqvae_trains_and_tests_with_mim(installed_plugin, synthetic_body_model,  # noqa: F811
                                              tmp_path):
    _write_data(tmp_path, np.random.default_rng(0))
    config = _tiny_config(tmp_path, synthetic_body_model)
    work_dir = tmp_path / 'work'
    log = run_mim('train', config, '--work-dir', str(work_dir), cwd=tmp_path)
    assert f'Iter(train) [{ITERS}/{ITERS}]' in log
    val_v2v = float(re.findall(r'3dpw/V2V: ([0-9.]+)', log)[-1])
    best = list(work_dir.glob(f'best_3dpw_V2V_iter_{ITERS}.pth'))
    assert best, sorted(p.name for p in work_dir.iterdir())

    run_mim('test', config, '--checkpoint', str(work_dir / f'iter_{ITERS}.pth'), '--work-dir',
            str(tmp_path / 'test'), '--out', str(tmp_path / 'metrics.json'), cwd=tmp_path)
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    # the same checkpoint on the same meshes (the log rounds to 6 decimals)
    assert metrics['3dpw/V2V'] == pytest.approx(val_v2v, abs=1e-5)
    assert 0 < metrics['3dpw/PA-V2V'] < metrics['3dpw/V2V']

    cfg = Config.fromfile(str(config))
    init_default_scope('mmpose')
    baseline = _mean_mesh_error(cfg)
    print(f'held-out V2V {val_v2v:.1f} mm, mean training mesh {baseline:.1f} mm')
    assert val_v2v < 0.75 * baseline, (val_v2v, baseline)

    model = MODELS.build(cfg.model).eval()
    state = torch.load(work_dir / f'iter_{ITERS}.pth', map_location='cpu', weights_only=False)
    model.load_state_dict(state['state_dict'])
    test = DATASETS.build(cfg.test_dataloader.dataset)
    meshes = torch.stack([test[i]['inputs'] for i in range(8)])
    with torch.no_grad():
        assert torch.equal(model.decode(model.encode(meshes)), model(meshes))
        assert model.encode(meshes).unique().numel() > 8  # the codebook did not collapse
