"""The references of the quickstart's table that need no image model, evaluated by the test
config's own ``MeshMetric``:

* the mean training mesh (what a mesh model predicts before it reads the image: the constant
  that minimises its training losses), the baseline the trained models are measured against;
* the mean training pose turned to face the camera: with people facing every direction the
  mean mesh averages them into a blurred body, while Procrustes alignment (PA-*) forgives this
  constant's orientation error, so it is the harder constant to beat on PA-MPJPE;
* the lifting baseline: ridge regression from the ground-truth 2D keypoints of a sample to
  its root-relative mesh, fitted in closed form on the training split. It reads exactly what
  the oracle mesh model's keypoint tokens carry, so it tells what learning from perfect 2D
  poses looks like;
* the learned lifting baseline: a small MLP from the same keypoints to the mesh, trained by
  gradient descent at the oracle's budget (its iterations, batch, optimiser and schedule). The
  ridge regression is a closed-form fit that learners trained by gradient steps approach only
  over thousands of steps; the MLP tells what a simple learner makes of the same inputs at the same cost, the fair measure
  of how fast the mesh transformer learns the lifting.
"""
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS
from torch import nn

from mmpose.registry import DATASETS, METRICS, MODELS
from postometro_mm.body_models import load_joint_regressor, regress_joints
from postometro_mm.body_models.joint_sets import H36M17_PELVIS_INDEX

from .pose_sampling import matrix_to_axis_angle, upright_orientation

#: Camera-frame global orientation (axis-angle) of an upright person facing the camera.
FACING_CAMERA = matrix_to_axis_angle(upright_orientation(0.0))


def _annotations(dataset_cfg: dict) -> list:
    """Every sample's ``data_info`` (annotations only: no image is read)."""
    cfg = dict(dataset_cfg, pipeline=[])
    dataset = DATASETS.build(cfg)
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def _smpl_infos(cfg: Config) -> List[dict]:
    """The training samples with SMPL ground truth."""
    infos = [i for i in _annotations(cfg.train_dataloader.dataset) if i['has_smpl'][0] > 0]
    if not infos:
        raise ValueError('quickstart baseline: the training set has no sample with SMPL '
                         'ground truth')
    return infos


@torch.no_grad()
def _root_relative_meshes(cfg: Config, infos: List[dict], chunk: int,
                          global_orient: Optional[np.ndarray] = None) -> Iterator[torch.Tensor]:
    """Ground-truth meshes of ``infos`` centred on their H36M pelvis, ``chunk`` at a time:
    (n, V, 3) float32 metres, built by ``test_evaluator.body_model``."""
    body_model = MODELS.build(cfg.test_evaluator.body_model).eval()
    regressor = load_joint_regressor(cfg.test_evaluator.joint_regressor).float()
    for start in range(0, len(infos), chunk):
        part = infos[start:start + chunk]
        pose = torch.from_numpy(np.concatenate([i['smpl_pose'] for i in part])).float()
        if global_orient is not None:
            pose[:, :3] = torch.as_tensor(global_orient, dtype=torch.float32)
        betas = torch.from_numpy(np.concatenate([i['smpl_betas'] for i in part])).float()
        gender = torch.from_numpy(np.concatenate([i['gender'] for i in part])).long()
        vertices = body_model(pose, betas, gender)
        pelvis = regress_joints(vertices, regressor)[:, H36M17_PELVIS_INDEX:
                                                    H36M17_PELVIS_INDEX + 1]
        yield vertices - pelvis


def mean_training_mesh(cfg: Config, chunk: int = 256,
                       global_orient: Optional[np.ndarray] = None) -> np.ndarray:
    """Mean over the training set of the ground-truth meshes centred on their H36M pelvis,
    as a mesh model predicts them (root-relative, camera-frame orientation).

    Args:
        cfg: a mesh config: ``train_dataloader.dataset`` gives the samples,
            ``test_evaluator`` the body model and the H36M joint regressor.
        chunk: samples per body-model call.
        global_orient: (3,) axis-angle that replaces every sample's global orientation
            (e.g. :data:`FACING_CAMERA`), or None to keep each sample's own.

    Returns:
        np.ndarray: (V, 3) metres.
    """
    infos = _smpl_infos(cfg)
    total = sum(meshes.double().sum(0)
                for meshes in _root_relative_meshes(cfg, infos, chunk, global_orient))
    return (total / len(infos)).numpy()


def keypoint_features(info: dict) -> np.ndarray:
    """What the oracle's keypoint tokens carry, as one row: the COCO-17 keypoints normalised
    to [-1, 1] over the sample's box (the crop of the mesh models), their visibility, and a
    constant 1 (the intercept).

    Args:
        info: a mesh dataset's ``data_info`` (``keypoints`` (1, 17, 2) px,
            ``keypoints_visible`` (1, 17), ``bbox_center`` (1, 2), ``bbox_scale`` (1, 2) px).

    Returns:
        np.ndarray: (17 * 2 + 17 + 1,) float64.
    """
    normalised = (info['keypoints'][0] - info['bbox_center'][0]) / info['bbox_scale'][0] * 2
    return np.concatenate([normalised.reshape(-1), info['keypoints_visible'][0], [1.0]])


def fit_ridge(features: np.ndarray, targets: np.ndarray, ridge: float) -> np.ndarray:
    """Closed-form ridge regression ``W = (XᵀX + ridge · n · I)⁻¹ XᵀY``.

    Args:
        features: (n, F) rows X.
        targets: (n, T) rows Y.
        ridge: penalty per sample (scale-free in the number of samples).

    Returns:
        np.ndarray: (F, T) weights; predictions are ``X @ W``.
    """
    num, dims = features.shape
    gram = features.T @ features + ridge * num * np.eye(dims)
    return np.linalg.solve(gram, features.T @ targets)


#: Ridge penalty of the lifting baseline (measured on the quick-mode world, PA-MPJPE on test:
#: 57.4 mm at 1e-3, 68.5 at 1e-2, 89.1 at 1e-1).
LIFTING_RIDGE = 1e-3


def _training_meshes(cfg: Config, chunk: int = 256) -> Tuple[np.ndarray, np.ndarray]:
    """Features (n, F) and flattened root-relative meshes (n, V * 3) of the training samples
    with SMPL ground truth, float64."""
    infos = _smpl_infos(cfg)
    features = np.stack([keypoint_features(i) for i in infos])
    targets = np.concatenate([m.double().reshape(len(m), -1).numpy()
                              for m in _root_relative_meshes(cfg, infos, chunk)])
    return features, targets


def _test_features(cfg: Config) -> np.ndarray:
    """(num_test, F) :func:`keypoint_features` of ``test_dataloader``'s samples."""
    return np.stack([keypoint_features(i) for i in _annotations(cfg.test_dataloader.dataset)])


def lifting_baseline(cfg: Config, ridge: float = LIFTING_RIDGE,
                     chunk: int = 256) -> np.ndarray:
    """Fit the lifting baseline on ``train_dataloader`` and predict ``test_dataloader``.

    Ridge regression from :func:`keypoint_features` to the root-relative ground-truth mesh
    (all vertices, metres), fitted on the training samples with SMPL ground truth.

    Returns:
        np.ndarray: (num_test, V, 3) predicted meshes, metres, in test-set order.
    """
    features, targets = _training_meshes(cfg, chunk)
    weights = fit_ridge(features, targets, ridge)
    predicted = _test_features(cfg) @ weights
    return predicted.reshape(len(predicted), -1, 3)


class LiftingMLP(nn.Sequential):
    """Two hidden ReLU layers from :func:`keypoint_features` to a flattened mesh.

    Args:
        in_features (int): F, the length of a feature row (52 for COCO-17).
        num_vertices (int): V of the predicted mesh.
        hidden_dims (int): width of both hidden layers. Defaults to 256.

    Shapes:
        (B, F) → (B, V * 3), metres.
    """

    def __init__(self, in_features: int, num_vertices: int, hidden_dims: int = 256) -> None:
        super().__init__(
            nn.Linear(in_features, hidden_dims), nn.ReLU(),
            nn.Linear(hidden_dims, hidden_dims), nn.ReLU(),
            nn.Linear(hidden_dims, num_vertices * 3))


def fit_lifting_mlp(cfg: Config, hidden_dims: int = 256, seed: int = 0,
                    chunk: int = 256) -> LiftingMLP:
    """Train a :class:`LiftingMLP` on ``train_dataloader``'s samples with SMPL ground truth
    at a mesh config's budget and recipe.

    ``train_cfg.max_iters`` iterations of ``train_dataloader.batch_size`` samples (reshuffled
    every pass, the last incomplete batch of a pass dropped), ``optim_wrapper`` (optimiser,
    weight decay, gradient clipping) and ``param_scheduler`` stepped every iteration; the loss
    is the mean absolute error of the root-relative mesh's coordinates (m), what the mesh
    models' vertex loss measures.

    Args:
        cfg: an iteration-based mesh config (the oracle's, at the run's budget).
        hidden_dims: width of the MLP.
        seed: seed of the initialisation and of the sample order; the global RNG is left as
            it was.
        chunk: samples per body-model call when building the targets.

    Returns:
        LiftingMLP: the trained network, in eval mode.
    """
    features, targets = _training_meshes(cfg, chunk)
    inputs = torch.from_numpy(features).float()
    meshes = torch.from_numpy(targets).float()
    batch_size = cfg.train_dataloader.batch_size
    if len(inputs) < batch_size:
        raise ValueError(f'fit_lifting_mlp: {len(inputs)} training samples with SMPL ground '
                         f'truth, fewer than one batch of {batch_size}')
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        mlp = LiftingMLP(inputs.shape[1], meshes.shape[1] // 3, hidden_dims)
    optim_wrapper = build_optim_wrapper(mlp, cfg.optim_wrapper)
    schedulers = cfg.get('param_scheduler') or []
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=optim_wrapper))
                  for s in ([schedulers] if isinstance(schedulers, dict) else schedulers)]
    order = torch.Generator().manual_seed(seed)
    iteration, max_iters = 0, cfg.train_cfg.max_iters
    while iteration < max_iters:
        permutation = torch.randperm(len(inputs), generator=order)
        for start in range(0, len(inputs) - batch_size + 1, batch_size):
            index = permutation[start:start + batch_size]
            loss = (mlp(inputs[index]) - meshes[index]).abs().mean()
            optim_wrapper.update_params(loss)
            for scheduler in schedulers:
                scheduler.step()
            iteration += 1
            if iteration == max_iters:
                break
    return mlp.eval()


@torch.no_grad()
def mlp_lifting_baseline(mlp: LiftingMLP, cfg: Config) -> np.ndarray:
    """Meshes a trained :class:`LiftingMLP` predicts for ``test_dataloader``'s samples.

    Returns:
        np.ndarray: (num_test, V, 3) metres, in test-set order.
    """
    predicted = mlp(torch.from_numpy(_test_features(cfg)).float()).double().numpy()
    return predicted.reshape(len(predicted), -1, 3)


def evaluate_meshes(cfg: Config, vertices: np.ndarray) -> Dict[str, float]:
    """Metrics of predicting ``vertices`` ((V, 3) for every sample, or (num_test, V, 3) one
    per sample in test-set order) on ``test_dataloader``, computed by the config's
    ``test_evaluator`` (same keys as ``tools/test.py``)."""
    metric = METRICS.build(cfg.test_evaluator)
    infos = _annotations(cfg.test_dataloader.dataset)
    if vertices.ndim == 2:
        vertices = np.broadcast_to(vertices, (len(infos), *vertices.shape))
    if len(vertices) != len(infos):
        raise ValueError(f'evaluate_meshes: {len(vertices)} meshes for {len(infos)} test '
                         'samples')
    samples = [dict(gt_instances=info, pred_instances=dict(vertices=mesh[None]),
                    id=info['id'], seq_name=info['seq_name'])
               for info, mesh in zip(infos, vertices)]
    metric.process({}, samples)
    return metric.evaluate(len(samples))
