"""PoseTokenModulator: formula, token sources and configuration checks."""
import pytest
import torch
import torch.nn.functional as F

from mmpose.registry import MODELS


def _build(**kwargs):
    cfg = dict(type='PoseTokenModulator', in_channels=12, num_tokens=6, hidden_dims=16,
               hidden_inter_dims=20, token_inter_dims=4, out_channels=24)
    cfg.update(kwargs)
    return MODELS.build(cfg).eval()


def test_linear_modulator_equals_formula():
    torch.manual_seed(0)
    neck = _build(modulator='linear', num_blocks=0)
    feats, scores = torch.randn(3, 6, 12), torch.randn(3, 6, 1)
    x = feats @ neck.start_embed.weight.T + neck.start_embed.bias
    x = F.layer_norm(x, (16, ), neck.norm.weight, neck.norm.bias)
    x = torch.einsum('mn,bnc->bmc', neck.token_mlp.weight, x) + neck.token_mlp.bias[:, None]
    fc, ln = neck.score_fusion[0], neck.score_fusion[1]
    y = torch.cat([x, scores], -1) @ fc.weight.T + fc.bias
    expected = torch.relu(F.layer_norm(y, (24, ), ln.weight, ln.bias))
    assert torch.allclose(neck(feats, scores), expected, atol=1e-5)


def test_mixer_modulator_shapes_blocks_and_score_effect():
    torch.manual_seed(0)
    neck = _build(num_blocks=3)
    assert len(neck.mixers) == 3
    feats, scores = torch.randn(2, 6, 12), torch.randn(2, 6, 1)
    out = neck(feats, scores)
    assert out.shape == (2, 6, 24) and (out >= 0).all()
    assert not torch.allclose(out, neck(feats, scores + 1.0))


def test_raw_keypoint_tokens():
    neck = _build(in_channels=2, num_tokens=17, num_blocks=1)
    out = neck(torch.rand(2, 17, 2) * 2 - 1, torch.ones(2, 17, 1))
    assert out.shape == (2, 17, 24)


@pytest.mark.parametrize('kwargs, match', [
    (dict(modulator='conv'), 'modulator'),
    (dict(modulator='linear', num_blocks=2), 'num_blocks=0'),
    (dict(num_blocks=0), 'num_blocks >= 1'),
])
def test_bad_config_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _build(**kwargs)


def test_bad_input_shapes_raise():
    neck = _build()
    with pytest.raises(ValueError, match='pose_feats'):
        neck(torch.randn(2, 5, 12), torch.randn(2, 5, 1))
    with pytest.raises(ValueError, match='pose_scores'):
        neck(torch.randn(2, 6, 12), torch.randn(2, 6))
