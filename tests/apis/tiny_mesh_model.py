"""A tiny PostoMETRO (ResNet-18/8 + tiny PCT tokenizer + small head) on the synthetic body
model, as a config file and a matching checkpoint, for the API and demo tests."""
import os.path as osp
from typing import Any, Dict

import torch
from mmengine.config import Config

INPUT_SIZE = (64, 64)

TINY_PCT = dict(
    type='PCTPoseEstimator',
    backbone=dict(type='PCTSwinV2', img_size=INPUT_SIZE[0], embed_dims=16, depths=[1, 1, 1, 1],
                  num_heads=[1, 2, 2, 4], window_size=[4, 4, 2, 2],
                  pretrained_window_size=[3, 3, 2, 2], drop_path_rate=0.0),
    head=dict(type='PCTHead', stage='classifier', in_channels=128, input_size=INPUT_SIZE,
              tokenizer=dict(num_tokens=6, num_codes=16, code_dims=12, guide_ratio=0.5,
                             enc_hidden_dims=16, enc_hidden_inter_dims=16,
                             enc_token_inter_dims=4, enc_num_blocks=1, dec_hidden_dims=8,
                             dec_hidden_inter_dims=8, dec_token_inter_dims=4, dec_num_blocks=1),
              classifier=dict(conv_channels=8, conv_num_blocks=1, hidden_dims=8,
                              hidden_inter_dims=8, token_inter_dims=4, num_blocks=1)))


def tiny_config(body: Dict[str, Any], embed_dims=(32, 16)) -> Config:
    """Config of the tiny model on the synthetic body model ``body`` (fixture dict)."""
    return Config(dict(
        default_scope='mmpose',
        custom_imports=dict(imports=['postometro_mm'], allow_failed_imports=False),
        model=dict(
            type='MeshEstimator',
            data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                                   std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
            backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8,
                          out_indices=(3, )),
            neck=dict(type='PoseTokenModulator', in_channels=12, num_tokens=6, hidden_dims=32,
                      hidden_inter_dims=32, token_inter_dims=8, num_blocks=2,
                      out_channels=embed_dims[0]),
            pose_tokenizer=TINY_PCT,
            pose_token_source='pct',
            head=dict(type='PostoMETROHead', in_channels=64,
                      mesh_sampler=dict(type='MeshSampler', filename=body['mesh_sampler']),
                      joint_regressor=body['j_regressor_h36m'], embed_dims=embed_dims,
                      feedforward_channels=(64, 32), num_heads=4, dropout=0.0),
            test_cfg=dict(flip_test=False)),
        test_dataloader=dict(dataset=dict(pipeline=[
            dict(type='LoadMeshImage'),
            dict(type='MeshTopdownAffine', input_size=INPUT_SIZE),
            dict(type='PackMeshInputs'),
        ]))))


def write_tiny_model(body: Dict[str, Any], out_dir: str, name: str = 'tiny_postometro',
                     embed_dims=(32, 16), seed: int = 0):
    """Write ``<name>.py`` and ``<name>.pth`` (random weights whose camera predicts a
    positive scale, s ≈ 1, so that meshes are placed in front of the camera).

    Returns:
        tuple[str, str]: config and checkpoint paths.
    """
    from mmpose.registry import MODELS
    from mmengine.registry import DefaultScope
    cfg = tiny_config(body, embed_dims)
    config_path = osp.join(out_dir, f'{name}.py')
    cfg.dump(config_path)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(cfg.model)
    with torch.no_grad():
        model.head.cam_predictor.weight.mul_(0.01)
        model.head.cam_predictor.bias.copy_(torch.tensor([1.0, 0.0, 0.0]))
    checkpoint_path = osp.join(out_dir, f'{name}.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint_path)
    return config_path, checkpoint_path
