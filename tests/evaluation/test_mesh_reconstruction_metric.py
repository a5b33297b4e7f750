"""MeshReconstructionMetric (V2V, PA-V2V in mm) against hand-computed cases."""
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from postometro_mm.evaluation.metrics import MeshReconstructionMetric


def _run(gt: np.ndarray, pred: np.ndarray) -> dict:
    metric = MeshReconstructionMetric()
    metric.process(dict(inputs=torch.as_tensor(gt, dtype=torch.float32)),
                   [dict(pred_vertices=torch.as_tensor(p, dtype=torch.float32)) for p in pred])
    return metric.compute_metrics(metric.results)


def test_centring_offsets_and_similarity_alignment():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(2, 50, 3))
    offsets = rng.normal(size=(2, 50))
    offsets -= offsets.mean(axis=1, keepdims=True)  # zero mean: centring keeps them
    pred = gt + np.array([0.3, -2.0, 1.0])  # a global shift is forgiven
    pred[..., 2] += offsets
    result = _run(gt, pred)
    assert result['V2V'] == pytest.approx(1000 * np.abs(offsets).mean(), rel=1e-5)

    # a scaled, rotated and shifted copy: V2V is the distance by hand, PA-V2V vanishes
    rotation = Rotation.from_euler('xyz', [20, -35, 60], degrees=True).as_matrix()
    centred = gt - gt.mean(axis=1, keepdims=True)
    moved = 1.3 * centred @ rotation.T + np.array([5.0, 0.0, -1.0])
    by_hand = np.linalg.norm(1.3 * centred @ rotation.T - centred, axis=-1).mean()
    result = _run(gt, moved)
    assert result['V2V'] == pytest.approx(1000 * by_hand, rel=1e-5)
    assert result['PA-V2V'] == pytest.approx(0.0, abs=1e-2)


def test_mismatched_batches_are_refused():
    with pytest.raises(ValueError, match='2 input meshes, 1 predictions'):
        MeshReconstructionMetric().process(dict(inputs=torch.zeros(2, 4, 3)),
                                           [dict(pred_vertices=torch.zeros(4, 3))])
