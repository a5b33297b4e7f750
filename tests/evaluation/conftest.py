import numpy as np
import pytest
from scipy.spatial.transform import Rotation


def _independent_similarity(pred: np.ndarray, gt: np.ndarray, weights=None) -> np.ndarray:
    """Similarity-align each pred (N, P, 3) to gt with scipy's proper-rotation Kabsch solver.

    Deliberately written differently from ``similarity_procrustes`` (per-sample loop,
    ``Rotation.align_vectors`` for the rotation, scale from the aligned cross term) so the
    tests compare two independent computations.
    """
    out = np.empty_like(pred, dtype=np.float64)
    for n in range(len(pred)):
        w = np.ones(len(pred[n])) if weights is None else np.asarray(weights[n], float)
        mu_p = (w[:, None] * pred[n]).sum(0) / w.sum()
        mu_g = (w[:, None] * gt[n]).sum(0) / w.sum()
        p, g = pred[n] - mu_p, gt[n] - mu_g
        rot, _ = Rotation.align_vectors(g, p, weights=w)  # best proper R with g ~ R p
        rp = rot.apply(p)
        scale = (w[:, None] * g * rp).sum() / (w[:, None] * p * p).sum()
        out[n] = scale * rp + mu_g
    return out


@pytest.fixture(scope='session')
def independent_similarity():
    return _independent_similarity
