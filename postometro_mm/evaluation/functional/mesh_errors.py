"""Batched numpy point-set errors for 3D human mesh recovery.

All functions take stacked samples ``(N, P, 3)`` (``P`` joints or vertices) and return one
error per sample ``(N,)`` in the unit of the inputs (metres in, metres out). Centring (on a
pelvis, a mid-hip or the vertex mean) is the caller's job: these functions compare the point
sets as given, except the ``pa_*`` variants, which first align the prediction to the ground
truth with :func:`similarity_procrustes`.
"""
from typing import Optional

import numpy as np

_EPS = 1e-12


def _check_pair(pred: np.ndarray, gt: np.ndarray) -> None:
    if pred.ndim != 3 or pred.shape[-1] != 3 or pred.shape != gt.shape:
        raise ValueError('expected pred and gt of the same shape (N, P, 3), got '
                         f'pred {pred.shape} and gt {gt.shape}')


def _check_mask(mask: Optional[np.ndarray], shape: tuple) -> Optional[np.ndarray]:
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != shape[:2]:
        raise ValueError(f'expected mask of shape {shape[:2]} (N, P), got {mask.shape}')
    return mask.astype(bool)


def similarity_procrustes(pred: np.ndarray,
                          gt: np.ndarray,
                          mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Align each predicted point set to its ground truth with a similarity transform.

    Solves, per sample, ``min_{s,R,t} sum_p w_p ||s R x_p + t - y_p||^2`` over a scale ``s``,
    a proper rotation ``R`` (det +1: a reflection returned by the SVD is turned into the best
    rotation by flipping the sign of the smallest singular direction) and a translation ``t``
    (Umeyama's closed form). Points with ``mask == False`` do not take part in the fit but are
    transformed with the others.

    Args:
        pred (np.ndarray): predicted points ``(N, P, 3)``.
        gt (np.ndarray): ground-truth points ``(N, P, 3)``.
        mask (np.ndarray, optional): ``(N, P)`` bool, points used for the fit. Every sample
            needs at least one valid point (three for a meaningful rotation).

    Returns:
        np.ndarray: the aligned prediction ``(N, P, 3)`` (float64).
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    _check_pair(pred, gt)
    mask = _check_mask(mask, pred.shape)
    if mask is None:
        weights = np.ones(pred.shape[:2])
    else:
        weights = mask.astype(np.float64)
    count = weights.sum(axis=1, keepdims=True)  # (N, 1)
    if np.any(count == 0):
        raise ValueError('similarity_procrustes: a sample has no valid point (mask all False)')
    w = (weights / count)[..., None]  # (N, P, 1), sums to 1 per sample

    mu_pred = (w * pred).sum(axis=1, keepdims=True)
    mu_gt = (w * gt).sum(axis=1, keepdims=True)
    x = pred - mu_pred
    y = gt - mu_gt
    var_x = (w * x**2).sum(axis=(1, 2))  # (N,)
    cov = np.einsum('npi,npj->nij', w * x, y)  # sum_p w_p x_p y_p^T, (N, 3, 3)

    u, sing, vt = np.linalg.svd(cov)
    # R = V Z U^T maximises trace(R cov); Z fixes det(R) = +1.
    d = np.sign(np.linalg.det(np.einsum('nij,njk->nik', u, vt)))
    d[d == 0] = 1.0
    z = np.ones_like(sing)
    z[:, -1] = d
    rot = np.einsum('nji,nj,nkj->nik', vt, z, u)  # V diag(z) U^T
    scale = (sing * z).sum(axis=1) / np.maximum(var_x, _EPS)  # trace(Z S) / var

    return scale[:, None, None] * np.einsum('nij,npj->npi', rot, x) + mu_gt


def point_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean distance of every point: ``(N, P, 3), (N, P, 3) -> (N, P)``."""
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    _check_pair(pred, gt)
    return np.linalg.norm(pred - gt, axis=-1)


def _masked_mean(errors: np.ndarray, mask: Optional[np.ndarray]) -> np.ndarray:
    mask = _check_mask(mask, errors.shape + (3, ))
    if mask is None:
        return errors.mean(axis=1)
    count = mask.sum(axis=1)
    if np.any(count == 0):
        raise ValueError('a sample has no valid point (mask all False)')
    return (errors * mask).sum(axis=1) / count


def mpjpe(pred: np.ndarray, gt: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Mean per-joint position error per sample, ``(N,)``, over joints with ``mask`` True.

    The joint sets are compared as given (centre them on the same root first).
    """
    return _masked_mean(point_errors(pred, gt), mask)


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
    """MPJPE after per-sample similarity Procrustes alignment (fit on the masked joints)."""
    return mpjpe(similarity_procrustes(pred, gt, mask), gt, mask)


def mpvpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Mean per-vertex position error per sample, ``(N,)``, meshes compared as given."""
    return point_errors(pred, gt).mean(axis=1)


def pa_mpvpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """MPVPE after per-sample similarity Procrustes alignment on all vertices."""
    return mpvpe(similarity_procrustes(pred, gt), gt)
