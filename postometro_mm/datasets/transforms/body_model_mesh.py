"""SMPL parameters -> the mesh a mesh autoencoder reads, and its packing."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmpose.registry import MODELS, TRANSFORMS


@TRANSFORMS.register_module()
class BuildBodyModelMesh(BaseTransform):
    """Pose and shape a body model from a sample's SMPL parameters.

    Required keys: ``smpl_pose`` (72,) axis-angle, ``smpl_betas`` (B,), ``gender`` int
    (0 neutral, 1 male, 2 female). Added key: ``vertices`` (V, 3) float32, metres.

    Args:
        body_model (dict): config of a gendered body model taking ``(pose, betas, gender)``
            batches (e.g. ``dict(type='GenderedSMPL', model_path=...)``); built on first use in
            each data-loader process.
        canonical (bool): zero the global orientation first (the mesh in the body model's
            own frame, as the Mesh-VQ-VAE reads it). Default: True.
        center (bool): subtract the vertex mean. Default: True.
    """

    def __init__(self, body_model: dict, canonical: bool = True, center: bool = True) -> None:
        super().__init__()
        self.body_model_cfg = body_model
        self.canonical = canonical
        self.center = center
        self._body_model: Optional[torch.nn.Module] = None

    @torch.no_grad()
    def transform(self, results: dict) -> dict:
        if self._body_model is None:
            self._body_model = MODELS.build(self.body_model_cfg).eval()
        pose = torch.as_tensor(np.asarray(results['smpl_pose'], np.float32)).reshape(1, -1)
        if self.canonical:
            pose = pose.clone()
            pose[:, :3] = 0
        betas = torch.as_tensor(np.asarray(results['smpl_betas'], np.float32)).reshape(1, -1)
        vertices = self._body_model(pose, betas, torch.tensor([int(results['gender'])]))[0]
        if self.center:
            vertices = vertices - vertices.mean(dim=0, keepdim=True)
        results['vertices'] = vertices.numpy().astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(body_model={self.body_model_cfg!r}, '
                f'canonical={self.canonical}, center={self.center})')


@TRANSFORMS.register_module()
class PackMeshAutoencoderInputs(BaseTransform):
    """``dict(inputs=(V, 3) float32 tensor, data_samples=dict(meta_keys present))``: a mesh
    for :class:`~postometro_mm.models.MeshVQVAE`; batch with ``collate_fn=dict(type=
    'default_collate')`` to get (B, V, 3) inputs.

    Args:
        meta_keys (Sequence[str]): sample keys kept in ``data_samples``.
    """

    def __init__(self, meta_keys: Sequence[str] = ('id', 'seq_name', 'frame_id')) -> None:
        super().__init__()
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        return dict(inputs=torch.as_tensor(results['vertices'], dtype=torch.float32),
                    data_samples={k: results[k] for k in self.meta_keys if k in results})
