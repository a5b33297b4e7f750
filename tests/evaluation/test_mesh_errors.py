import numpy as np
import pytest
from scipy.spatial import procrustes as scipy_procrustes
from scipy.spatial.transform import Rotation

from postometro_mm.evaluation.functional import (mpjpe, mpvpe, pa_mpjpe, pa_mpvpe, point_errors,
                                                 similarity_procrustes)


def _random_similarity(rng, n):
    rot = Rotation.random(n, random_state=rng.integers(1 << 30)).as_matrix()
    scale = rng.uniform(0.5, 2.0, size=n)
    transl = rng.normal(size=(n, 1, 3))
    return rot, scale, transl


def _apply(points, rot, scale, transl):
    return scale[:, None, None] * np.einsum('nij,npj->npi', rot, points) + transl


def test_identical_point_sets_have_zero_error():
    gt = np.random.default_rng(0).normal(size=(3, 14, 3))
    for fn in (mpjpe, pa_mpjpe, mpvpe, pa_mpvpe):
        np.testing.assert_allclose(fn(gt.copy(), gt), 0.0, atol=1e-10)


def test_translation_hand_computed():
    gt = np.random.default_rng(1).normal(size=(2, 6, 3))
    shift = np.array([[[3.0, 4.0, 0.0]], [[0.0, 0.0, -2.0]]])  # norms 5 and 2
    pred = gt + shift
    np.testing.assert_allclose(mpjpe(pred, gt), [5.0, 2.0])
    np.testing.assert_allclose(mpvpe(pred, gt), [5.0, 2.0])
    np.testing.assert_allclose(pa_mpjpe(pred, gt), 0.0, atol=1e-10)
    np.testing.assert_allclose(pa_mpvpe(pred, gt), 0.0, atol=1e-10)


def test_rotation_hand_computed():
    # four points in the xy-plane and one on z; 90 deg about z moves each xy point by sqrt(2)
    gt = np.array([[[1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0], [0, 0, 1]]], float)
    rot = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]], float)
    pred = gt @ rot.T
    np.testing.assert_allclose(mpjpe(pred, gt), [4 * np.sqrt(2) / 5])
    np.testing.assert_allclose(pa_mpjpe(pred, gt), [0.0], atol=1e-10)


def test_scale_hand_computed():
    gt = np.array([[[1, 0, 0], [0, 2, 0], [0, 0, 3], [1, 1, 1]]], float)
    pred = 2.0 * gt  # every point moves by its own norm
    expected = np.linalg.norm(gt, axis=-1).mean()
    np.testing.assert_allclose(mpjpe(pred, gt), [expected])
    np.testing.assert_allclose(pa_mpjpe(pred, gt), [0.0], atol=1e-10)
    aligned = similarity_procrustes(pred, gt)
    np.testing.assert_allclose(aligned, gt, atol=1e-10)


def test_pa_mpjpe_invariant_to_similarity_of_prediction():
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(5, 14, 3))
    pred = gt + 0.1 * rng.normal(size=gt.shape)
    before = pa_mpjpe(pred, gt)
    assert np.all(before > 1e-3)
    moved = _apply(pred, *_random_similarity(rng, 5))
    np.testing.assert_allclose(pa_mpjpe(moved, gt), before, rtol=1e-8)
    np.testing.assert_allclose(pa_mpvpe(moved, gt), pa_mpvpe(pred, gt), rtol=1e-8)
    # and it is not invariant for plain MPJPE
    assert np.all(np.abs(mpjpe(moved, gt) - mpjpe(pred, gt)) > 1e-3)


def test_agrees_with_scipy_spatial_procrustes():
    rng = np.random.default_rng(3)
    gt = rng.normal(size=(4, 17, 3))
    pred = _apply(gt + 0.05 * rng.normal(size=gt.shape), *_random_similarity(rng, 4))
    aligned = similarity_procrustes(pred, gt)
    for n in range(4):
        _, _, disparity = scipy_procrustes(gt[n], pred[n])
        gt_c = gt[n] - gt[n].mean(0)
        ours = ((aligned[n] - gt[n])**2).sum() / (gt_c**2).sum()
        np.testing.assert_allclose(ours, disparity, rtol=1e-8)


def test_reflection_is_not_allowed(independent_similarity):
    rng = np.random.default_rng(4)
    gt = rng.normal(size=(3, 14, 3))
    pred = gt * np.array([-1.0, 1.0, 1.0])  # mirror image: the best orthogonal map reflects
    aligned = similarity_procrustes(pred, gt)
    np.testing.assert_allclose(aligned, independent_similarity(pred, gt), atol=1e-8)
    assert np.all(pa_mpjpe(pred, gt) > 1e-2)  # a reflection would have given zero
    # the fitted linear map has a positive determinant
    pc = pred - pred.mean(1, keepdims=True)
    ac = aligned - aligned.mean(1, keepdims=True)
    for n in range(3):
        lin = np.linalg.lstsq(pc[n], ac[n], rcond=None)[0]
        assert np.linalg.det(lin) > 0


def test_mask_excludes_points_from_fit_and_mean(independent_similarity):
    rng = np.random.default_rng(5)
    gt = rng.normal(size=(2, 14, 3))
    pred = gt + 0.05 * rng.normal(size=gt.shape)
    mask = np.ones((2, 14), bool)
    mask[:, [4, 9]] = False
    garbage = pred.copy()
    garbage[:, [4, 9]] += 100.0
    keep = [j for j in range(14) if j not in (4, 9)]
    np.testing.assert_allclose(
        pa_mpjpe(garbage, gt, mask), pa_mpjpe(pred[:, keep], gt[:, keep]), rtol=1e-10)
    np.testing.assert_allclose(mpjpe(garbage, gt, mask), mpjpe(pred[:, keep], gt[:, keep]))
    np.testing.assert_allclose(
        similarity_procrustes(garbage, gt, mask)[:, keep],
        independent_similarity(garbage, gt, mask)[:, keep], atol=1e-8)


def test_point_errors_and_bad_input():
    gt = np.zeros((1, 2, 3))
    pred = np.array([[[0, 0, 1.0], [0, 2.0, 0]]])
    np.testing.assert_allclose(point_errors(pred, gt), [[1.0, 2.0]])
    with pytest.raises(ValueError, match='same shape'):
        mpjpe(pred, gt[:, :1])
    with pytest.raises(ValueError, match='no valid point'):
        pa_mpjpe(pred, gt, np.zeros((1, 2), bool))
