import json

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from scipy.spatial.transform import Rotation

from mmpose.registry import METRICS
from mmpose.structures import PoseDataSample
from postometro_mm.body_models import GenderedSMPL, load_joint_regressor
from postometro_mm.body_models.joint_sets import H36M17_TO_J14, J14_NAMES, J24_TO_J14
from postometro_mm.evaluation.metrics import MeshMetric

BASE_KEYS = ('MPJPE', 'PA-MPJPE', 'MPVPE', 'PA-MPVPE', 'B/MPJPE', 'B/PA-MPJPE', 'B/MPVPE')


@pytest.fixture(scope='module')
def assets(synthetic_body_model):
    model = GenderedSMPL(synthetic_body_model['model_dir'])
    regressor = load_joint_regressor(synthetic_body_model['j_regressor_h36m']).numpy()
    return dict(
        model=model,
        regressor=regressor.astype(np.float64),
        cfg=dict(
            body_model=dict(type='GenderedSMPL', model_path=synthetic_body_model['model_dir']),
            joint_regressor=synthetic_body_model['j_regressor_h36m']))


def _params(rng, n):
    pose = 0.25 * rng.normal(size=(n, 72))
    betas = rng.normal(size=(n, 10))
    gender = rng.integers(0, 3, size=n)
    return pose, betas, gender


def _meshes(model, pose, betas, gender):
    with torch.no_grad():
        verts = model(torch.tensor(pose, dtype=torch.float32),
                      torch.tensor(betas, dtype=torch.float32), torch.tensor(gender))
    return verts.numpy().astype(np.float64)


def _sample(pred_verts, pose=None, betas=None, gender=0, has_smpl=1, has_3d=1, joints_3d=None,
            joints_3d_visible=None, idx=0, seq_name='seq_a'):
    """A data sample as mmengine's Evaluator hands it to the metric (``to_dict()``)."""
    gt = InstanceData()
    gt.smpl_pose = np.zeros((1, 72)) if pose is None else pose[None]
    gt.smpl_betas = np.zeros((1, 10)) if betas is None else betas[None]
    gt.gender = np.array([gender], dtype=np.int64)
    gt.has_smpl = np.array([has_smpl], dtype=np.float32)
    gt.has_3d = np.array([has_3d], dtype=np.float32)
    gt.joints_3d = np.zeros((1, 24, 3)) if joints_3d is None else joints_3d[None]
    gt.joints_3d_visible = (np.ones((1, 24)) if joints_3d_visible is None else
                            joints_3d_visible[None])
    pred = InstanceData(vertices=pred_verts[None].astype(np.float32))
    sample = PoseDataSample(metainfo=dict(id=idx, seq_name=seq_name))
    sample.gt_instances = gt
    sample.pred_instances = pred
    return sample.to_dict()


def _reference_errors(pred_verts, gt_verts, regressor, similarity):
    """Per-sample errors (mm) written out independently of MeshMetric, protocol A and B."""
    out = {key: [] for key in BASE_KEYS}
    for p, g in zip(pred_verts, gt_verts):
        jp, jg = regressor @ p, regressor @ g
        # protocol A
        p14, g14 = jp[H36M17_TO_J14], jg[H36M17_TO_J14]
        p14 = p14 - (p14[2] + p14[3]) / 2
        g14 = g14 - (g14[2] + g14[3]) / 2
        out['MPJPE'].append(np.linalg.norm(p14 - g14, axis=1).mean())
        a14 = similarity(p14[None], g14[None])[0]
        out['PA-MPJPE'].append(np.linalg.norm(a14 - g14, axis=1).mean())
        pv, gv = p - jp[0], g - jg[0]
        out['MPVPE'].append(np.linalg.norm(pv - gv, axis=1).mean())
        av = similarity(pv[None], gv[None])[0]
        out['PA-MPVPE'].append(np.linalg.norm(av - gv, axis=1).mean())
        # protocol B: regress from vertex-mean centred meshes
        pc, gc = p - p.mean(0), g - g.mean(0)
        jpc, jgc = regressor @ pc, regressor @ gc
        out['B/MPJPE'].append(np.linalg.norm(jpc - jgc, axis=1).mean())
        a17 = similarity(jpc[None], jgc[None])[0]
        out['B/PA-MPJPE'].append(np.linalg.norm(a17 - jgc, axis=1).mean())
        out['B/MPVPE'].append(np.linalg.norm(pc - gc, axis=1).mean())
    return {k: 1000 * np.array(v) for k, v in out.items()}


def _perturb(rng, verts, angle_deg=15.0, scale=1.1, noise=0.01):
    """Rotate about the vertex mean, scale, add noise and translate each mesh."""
    out = np.empty_like(verts)
    for n, v in enumerate(verts):
        rot = Rotation.from_rotvec(np.deg2rad(angle_deg) * rng.normal(size=3) /
                                   np.sqrt(3)).as_matrix()
        c = v.mean(0)
        out[n] = scale * (v - c) @ rot.T + c + noise * rng.normal(size=v.shape)
        out[n] += rng.normal(size=3)
    return out


def test_zero_error_for_identical_meshes_up_to_translation(assets):
    rng = np.random.default_rng(0)
    pose, betas, gender = _params(rng, 4)
    gt = _meshes(assets['model'], pose, betas, gender)
    pred = gt + rng.normal(size=(4, 1, 3))  # each protocol centres the meshes itself
    metric = MeshMetric(**assets['cfg'], prefix='3dpw')
    metric.process({}, [_sample(pred[i], pose[i], betas[i], gender[i], idx=i) for i in range(4)])
    results = metric.evaluate(4)
    assert sorted(results) == sorted(f'3dpw/{k}' for k in BASE_KEYS)
    for value in results.values():
        assert value == pytest.approx(0.0, abs=1e-3)  # float32 meshes, mm


def test_matches_independent_computation(assets, independent_similarity):
    rng = np.random.default_rng(1)
    pose, betas, gender = _params(rng, 6)
    gt = _meshes(assets['model'], pose, betas, gender)
    pred = _perturb(rng, gt)
    metric = METRICS.build(dict(type='MeshMetric', **assets['cfg']))
    samples = [_sample(pred[i], pose[i], betas[i], gender[i], idx=i) for i in range(6)]
    metric.process({}, samples[:4])  # two batches, as in a validation loop
    metric.process({}, samples[4:])
    results = metric.evaluate(6)
    expected = _reference_errors(pred.astype(np.float32).astype(np.float64), gt,
                                 assets['regressor'], independent_similarity)
    for key in BASE_KEYS:
        assert results[key] == pytest.approx(expected[key].mean(), rel=1e-6), key
    # the perturbation is mostly a similarity transform: PA removes most of the error
    assert results['PA-MPJPE'] < 0.5 * results['MPJPE']
    assert results['MPJPE'] > 10.0


def test_gender_selects_the_ground_truth_model(assets):
    rng = np.random.default_rng(2)
    pose, betas, _ = _params(rng, 2)
    male = _meshes(assets['model'], pose, betas, np.array([1, 1]))
    metric = MeshMetric(**assets['cfg'], protocols=('A', ))
    # predictions are the male meshes; GT says female for the second sample
    metric.process({}, [_sample(male[0], pose[0], betas[0], 1, idx=0),
                        _sample(male[1], pose[1], betas[1], 2, idx=1)])
    per_sample = [r['A/mpvpe'] for r in metric.results]
    assert per_sample[0] == pytest.approx(0.0, abs=1e-3)
    assert per_sample[1] > 1.0


def test_joints_3d_only_and_skipped_samples(assets, tmp_path, independent_similarity):
    rng = np.random.default_rng(3)
    pose, betas, gender = _params(rng, 3)
    gt = _meshes(assets['model'], pose, betas, gender)
    pred = _perturb(rng, gt, angle_deg=10.0, scale=1.0, noise=0.005)
    reg = assets['regressor']
    # sample 2 has no SMPL: its J24 joints_3d hold the GT mesh's J14 (+ an offset, and one
    # invisible joint with a wrong position that must be ignored)
    j14 = (reg @ gt[2])[H36M17_TO_J14]
    joints_3d = np.zeros((24, 3))
    joints_3d[J24_TO_J14] = j14 + np.array([0.3, -0.2, 5.0])
    visible = np.zeros(24)
    visible[J24_TO_J14] = 1
    invisible_j14 = 6
    joints_3d[J24_TO_J14[invisible_j14]] += 1.0
    visible[J24_TO_J14[invisible_j14]] = 0
    samples = [
        _sample(pred[0], pose[0], betas[0], gender[0], idx=0),
        _sample(pred[1], pose[1], betas[1], gender[1], idx=1),
        _sample(pred[2], has_smpl=0, joints_3d=joints_3d, joints_3d_visible=visible, idx=2),
        _sample(pred[2], has_smpl=0, has_3d=0, idx=3),  # nothing to evaluate
    ]
    prefix = str(tmp_path / 'out' / 'run')
    metric = MeshMetric(**assets['cfg'], per_joint=True, outfile_prefix=prefix)
    metric.process({}, samples)
    results = metric.evaluate(4)

    # expected joint errors of sample 2, computed on the 13 visible joints
    p14 = (reg @ pred[2].astype(np.float32).astype(np.float64))[H36M17_TO_J14]
    p14 = p14 - (p14[2] + p14[3]) / 2
    g14 = j14 - (j14[2] + j14[3]) / 2
    keep = [j for j in range(14) if j != invisible_j14]
    mpjpe_2 = 1000 * np.linalg.norm(p14[keep] - g14[keep], axis=1).mean()
    smpl_only = _reference_errors(pred[:2].astype(np.float32).astype(np.float64), gt[:2], reg,
                                  independent_similarity)
    assert results['MPJPE'] == pytest.approx(
        (smpl_only['MPJPE'].sum() + mpjpe_2) / 3, rel=1e-6)
    for key in ('MPVPE', 'PA-MPVPE', 'B/MPJPE', 'B/MPVPE'):  # SMPL samples only
        assert results[key] == pytest.approx(smpl_only[key].mean(), rel=1e-6), key
    dump = np.load(f'{prefix}_per_sample.npz')
    # per-joint: the invisible joint is averaged over the two SMPL samples only
    name = J14_NAMES[invisible_j14]
    assert results[f'per_joint/MPJPE/{name}'] == pytest.approx(
        dump['A_joint'][:2, invisible_j14].mean(), rel=1e-6)
    assert len([k for k in results if k.startswith('per_joint/')]) == 2 * 14
    assert len([k for k in results if k.startswith('B/per_joint/')]) == 2 * 17

    with open(f'{prefix}_metrics.json') as f:
        summary = json.load(f)
    assert summary['counts'] == dict(samples=4, smpl=2, joints_3d_only=1, skipped=1)
    assert summary['metrics']['MPJPE'] == pytest.approx(results['MPJPE'])
    assert list(dump['source']) == ['smpl', 'smpl', 'joints_3d', 'none']
    assert np.isnan(dump['A_mpvpe'][2:]).all() and not np.isnan(dump['A_mpvpe'][:2]).any()
    assert np.isnan(dump['A_joint'][2, invisible_j14])
    assert np.nanmean(dump['A_joint'][2]) == pytest.approx(mpjpe_2, rel=1e-6)


def test_per_sequence_breakdown_and_protocol_selection(assets):
    rng = np.random.default_rng(4)
    pose, betas, gender = _params(rng, 5)
    gt = _meshes(assets['model'], pose, betas, gender)
    pred = _perturb(rng, gt)
    seqs = ['down_b', 'down_b', 'court_a', 'court_a', 'court_a']
    samples = [
        _sample(pred[i], pose[i], betas[i], gender[i], idx=i, seq_name=seqs[i]) for i in range(5)
    ]
    metric = MeshMetric(**assets['cfg'], per_sequence=True, prefix='3dpw')
    metric.process({}, samples)
    per_sample = list(metric.results)
    results = metric.evaluate(5)
    for seq in ('down_b', 'court_a'):
        rows = [r for r in per_sample if r['seq_name'] == seq]
        assert results[f'3dpw/seq/{seq}/MPVPE'] == pytest.approx(
            np.mean([r['A/mpvpe'] for r in rows]))
        assert results[f'3dpw/seq/{seq}/B/MPJPE'] == pytest.approx(
            np.mean([r['B/joint'].mean() for r in rows]))
    # overall = sample-weighted mean of the sequences
    assert results['3dpw/MPVPE'] == pytest.approx(
        (2 * results['3dpw/seq/down_b/MPVPE'] + 3 * results['3dpw/seq/court_a/MPVPE']) / 5)

    only_b = MeshMetric(**assets['cfg'], protocols=('B', ), prefix='emdb')
    only_b.process({}, samples)
    b_results = only_b.evaluate(5)
    assert sorted(b_results) == ['emdb/B/MPJPE', 'emdb/B/MPVPE', 'emdb/B/PA-MPJPE']
    assert b_results['emdb/B/MPJPE'] == pytest.approx(results['3dpw/B/MPJPE'])

    with pytest.raises(ValueError, match='protocols'):
        MeshMetric(**assets['cfg'], protocols=('C', ))


def test_wrong_vertex_count_is_a_clear_error(assets):
    metric = MeshMetric(**assets['cfg'])
    with pytest.raises(ValueError, match='vertices'):
        metric.process({}, [_sample(np.zeros((5, 3)))])
