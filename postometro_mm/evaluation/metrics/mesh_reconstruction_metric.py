"""Reconstruction error of a mesh autoencoder (Mesh-VQ-VAE): V2V and PA-V2V in mm."""
from typing import Dict, List, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmpose.registry import METRICS
from ..functional import mpvpe, pa_mpvpe

_M_TO_MM = 1000.0


@METRICS.register_module()
class MeshReconstructionMetric(BaseMetric):
    """Mean per-vertex error between the input meshes and their reconstructions, both centred
    on their vertex mean (``V2V``), and after a similarity Procrustes alignment over all
    vertices (``PA-V2V``), in mm for meshes in metres (the Mesh-VQ-VAE evaluation).

    ``process`` reads the input meshes (B, V, 3) from ``data_batch['inputs']`` and the
    reconstructions from the predictions' ``pred_vertices`` (V, 3) (:class:`MeshVQVAE`'s
    ``predict`` mode). Every sample counts once across processes.

    Args:
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix = 'mesh'

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        inputs = data_batch['inputs']
        inputs = inputs if isinstance(inputs, (list, tuple)) else list(inputs)
        if len(inputs) != len(data_samples):
            raise ValueError(f'MeshReconstructionMetric: {len(inputs)} input meshes, '
                             f'{len(data_samples)} predictions')
        for gt, sample in zip(inputs, data_samples):
            pred = np.asarray(sample['pred_vertices'].detach().cpu(), np.float64)[None]
            gt = np.asarray(gt.detach().cpu(), np.float64)[None]
            pred, gt = pred - pred.mean(1, keepdims=True), gt - gt.mean(1, keepdims=True)
            self.results.append((float(mpvpe(pred, gt)[0]), float(pa_mpvpe(pred, gt)[0])))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        errors = np.asarray(results, np.float64) * _M_TO_MM
        return {'V2V': float(errors[:, 0].mean()), 'PA-V2V': float(errors[:, 1].mean())}
