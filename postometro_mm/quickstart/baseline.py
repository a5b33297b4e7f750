"""The untrained references of the quickstart's table, constant meshes predicted for every
test sample and evaluated by the test config's own ``MeshMetric``:

* the mean training mesh (what a mesh model predicts before it reads the image: the constant
  that minimises its training losses), the baseline the trained models are measured against;
* the mean training pose turned to face the camera: with people facing every direction the
  mean mesh averages them into a blurred body, while Procrustes alignment (PA-*) forgives this
  constant's orientation error, so it is the harder constant to beat on PA-MPJPE.
"""
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.config import Config

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


@torch.no_grad()
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
    infos = [i for i in _annotations(cfg.train_dataloader.dataset) if i['has_smpl'][0] > 0]
    if not infos:
        raise ValueError('mean_training_mesh: the training set has no sample with SMPL '
                         'ground truth')
    body_model = MODELS.build(cfg.test_evaluator.body_model).eval()
    regressor = load_joint_regressor(cfg.test_evaluator.joint_regressor).float()
    total = None
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
        summed = (vertices - pelvis).double().sum(0)
        total = summed if total is None else total + summed
    return (total / len(infos)).numpy()


def evaluate_constant_mesh(cfg: Config, vertices: np.ndarray) -> Dict[str, float]:
    """Metrics of predicting ``vertices`` (V, 3) for every sample of ``test_dataloader``,
    computed by the config's ``test_evaluator`` (same keys as ``tools/test.py``)."""
    metric = METRICS.build(cfg.test_evaluator)
    samples = [dict(gt_instances=info, pred_instances=dict(vertices=vertices[None]),
                    id=info['id'], seq_name=info['seq_name'])
               for info in _annotations(cfg.test_dataloader.dataset)]
    metric.process({}, samples)
    return metric.evaluate(len(samples))
