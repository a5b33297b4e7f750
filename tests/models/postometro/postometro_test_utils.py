"""Helpers shared by the PostoMETRO tests: tiny configs and packed data samples."""
from typing import Any, Dict

import numpy as np
import torch
from mmengine.structures import InstanceData

from mmpose.structures import PoseDataSample

TINY_DIMS = dict(embed_dims=(32, 16), feedforward_channels=(64, 32), num_heads=4, dropout=0.0)


def tiny_head_cfg(body: Dict[str, Any], in_channels: int = 64, with_pose_tokens: bool = True,
                  with_body_model: bool = True, **kwargs) -> dict:
    """A small PostoMETROHead config on the synthetic body model ``body``."""
    cfg = dict(
        type='PostoMETROHead', in_channels=in_channels,
        mesh_sampler=dict(type='MeshSampler', filename=body['mesh_sampler']),
        joint_regressor=body['j_regressor_h36m'],
        body_model=dict(type='GenderedSMPL', model_path=body['model_dir'])
        if with_body_model else None,
        with_pose_tokens=with_pose_tokens, **TINY_DIMS)
    cfg.update(kwargs)
    return cfg


def tiny_backbone_cfg() -> dict:
    """mmpose ResNet-18 at 1/8 width: 64 channels at stride 32."""
    return dict(type='ResNet', depth=18, base_channels=8, stem_channels=8, out_indices=(3, ))


def tiny_neck_cfg(in_channels: int = 512, num_tokens: int = 34) -> dict:
    return dict(type='PoseTokenModulator', in_channels=in_channels, num_tokens=num_tokens,
                hidden_dims=32, hidden_inter_dims=32, token_inter_dims=8, num_blocks=2,
                out_channels=TINY_DIMS['embed_dims'][0])


def make_data_sample(body_model, h36m_regressor: torch.Tensor, pose: torch.Tensor,
                     betas: torch.Tensor, gender: int, input_size=(64, 64),
                     center=(100.0, 80.0), scale=(128.0, 128.0)) -> PoseDataSample:
    """One packed sample whose 3D/2D joints and COCO keypoints come from its own GT mesh."""
    from postometro_mm.body_models.joint_sets import (H36M17_TO_J14, J24_TO_COCO17,
                                                      J24_TO_J14)
    vertices = body_model(pose[None], betas[None], torch.tensor([gender]))
    j14 = torch.einsum('jv,bvc->bjc', h36m_regressor, vertices)[0, H36M17_TO_J14]
    j24 = torch.zeros(24, 4)
    j24[J24_TO_J14, :3] = j14
    j24[J24_TO_J14, 3] = 1.0
    cam = torch.tensor([0.8, 0.0, 0.1])
    j2d = torch.zeros(24, 3)
    j2d[J24_TO_J14, :2] = cam[0] * (j14[:, :2] - j14[2:4, :2].mean(0) + cam[1:])
    j2d[J24_TO_J14, 2] = 1.0
    size = torch.tensor(input_size, dtype=torch.float32)
    keypoints = (j2d[J24_TO_COCO17, :2] + 1) / 2 * size
    visible = j2d[J24_TO_COCO17, 2]
    labels = InstanceData(
        smpl_pose=pose[None].float(), smpl_betas=betas[None].float(),
        gender=torch.tensor([gender]), has_smpl=torch.ones(1), has_3d=torch.ones(1),
        has_2d=torch.ones(1), joints_3d=j24[None], joints_2d=j2d[None],
        keypoints=keypoints[None], keypoints_visible=visible[None])
    sample = PoseDataSample(metainfo=dict(input_size=np.array(input_size),
                                          input_center=np.array(center, dtype=np.float32),
                                          input_scale=np.array(scale, dtype=np.float32)))
    sample.gt_instance_labels = labels
    sample.gt_instances = InstanceData(bbox=np.array([[0., 0., 10., 10.]], dtype=np.float32))
    return sample
