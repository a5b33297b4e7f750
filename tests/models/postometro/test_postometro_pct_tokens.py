"""MeshEstimator with a tiny frozen PCT tokenizer: 'pct', 'gt_keypoints', 'raw_keypoints'."""
import pytest
import torch
from postometro_test_utils import tiny_backbone_cfg, tiny_head_cfg, tiny_neck_cfg

from mmpose.registry import MODELS

TINY_PCT = dict(
    type='PCTPoseEstimator',
    backbone=dict(type='PCTSwinV2', img_size=64, embed_dims=16, depths=[1, 1, 1, 1],
                  num_heads=[1, 2, 2, 4], window_size=[4, 4, 2, 2],
                  pretrained_window_size=[3, 3, 2, 2], drop_path_rate=0.0),
    head=dict(type='PCTHead', stage='classifier', in_channels=128, input_size=(64, 64),
              tokenizer=dict(num_tokens=6, num_codes=16, code_dims=12, guide_ratio=0.5,
                             enc_hidden_dims=16, enc_hidden_inter_dims=16,
                             enc_token_inter_dims=4, enc_num_blocks=1, dec_hidden_dims=8,
                             dec_hidden_inter_dims=8, dec_token_inter_dims=4, dec_num_blocks=1),
              classifier=dict(conv_channels=8, conv_num_blocks=1, hidden_dims=8,
                              hidden_inter_dims=8, token_inter_dims=4, num_blocks=1)))


def _build(body, source, **kwargs):
    neck = tiny_neck_cfg(in_channels=2, num_tokens=17) if source == 'raw_keypoints' else \
        tiny_neck_cfg(in_channels=12, num_tokens=6)
    cfg = dict(type='MeshEstimator', backbone=tiny_backbone_cfg(), neck=neck,
               head=tiny_head_cfg(body), pose_tokenizer=TINY_PCT, pose_token_source=source)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _images(n=4):
    return torch.randn(n, 3, 64, 64, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize('source', ['pct', 'gt_keypoints', 'raw_keypoints'])
def test_sources_train_the_neck_but_not_the_tokenizer(synthetic_body_model, synthetic_batch,
                                                      source):
    torch.manual_seed(0)
    model = _build(synthetic_body_model, source)
    model.train()
    assert not model.pose_tokenizer.training
    assert not any(p.requires_grad for p in model.pose_tokenizer.parameters())
    losses = model(_images(), synthetic_batch, mode='loss')
    sum(losses.values()).backward()
    assert model.neck.start_embed.weight.grad is not None
    assert model.head.dim_reduce_enc_pct.weight.grad is not None
    model.eval()
    with torch.no_grad():
        pred = model(_images(), synthetic_batch, mode='predict')[0].pred_instances
    assert pred.vertices.shape == (1, model.head.num_vertices_fine, 3)
    assert any(k.startswith('pose_tokenizer.head.tokenizer.') for k in model.state_dict())


def test_token_sources_match_the_tokenizer_api(synthetic_body_model, synthetic_batch):
    inputs = _images()
    model = _build(synthetic_body_model, 'pct').eval()
    out = model.pose_tokenizer.tokenize(inputs)
    feats, scores = model._token_source(inputs, synthetic_batch)
    assert torch.equal(feats, out['pose_feats']) and torch.equal(scores, out['pose_scores'])

    model = _build(synthetic_body_model, 'gt_keypoints').eval()
    feats, scores = model._token_source(inputs, synthetic_batch)
    labels = [s.gt_instance_labels for s in synthetic_batch]
    expected = model.pose_tokenizer.encode_keypoints(
        torch.cat([lb.keypoints for lb in labels]),
        torch.cat([lb.keypoints_visible for lb in labels]), inputs=inputs)['pose_feats']
    assert torch.equal(feats, expected) and torch.all(scores == 10.0)

    model = _build(synthetic_body_model, 'raw_keypoints').eval()
    feats, scores = model._token_source(inputs, synthetic_batch)
    decoded = model.pose_tokenizer.tokenize(inputs, decode=True)['keypoints']
    assert torch.allclose(feats, decoded / 64 * 2 - 1) and torch.all(scores == 1.0)


def test_logit_noise_only_at_test_time(synthetic_body_model):
    torch.manual_seed(0)
    model = _build(synthetic_body_model, 'pct', logit_noise_std=1.0).eval()
    inputs = _images()
    clean = model.pose_tokenizer.tokenize(inputs)
    noisy_a, scores_a = model._token_source(inputs, None)
    noisy_b, _ = model._token_source(inputs, None)
    assert not torch.allclose(noisy_a, clean['pose_feats'])
    assert not torch.allclose(noisy_a, noisy_b)
    assert scores_a.shape == clean['pose_scores'].shape
    model.train()
    feats, _ = model._token_source(inputs, None)
    assert torch.equal(feats, clean['pose_feats'])
