import math

import pytest
import torch

from postometro_mm.models.backbones import PCTSwinV2
from postometro_mm.models.backbones.pct_swinv2 import PCTWindowAttention

TINY = dict(img_size=128, embed_dims=32, depths=[1, 2, 1, 1], num_heads=[1, 2, 4, 8],
            window_size=[4, 4, 4, 2], pretrained_window_size=[3, 3, 3, 2],
            shift=[True, True, False, False], drop_path_rate=0.1)


def _naive_window_attention(attn: PCTWindowAttention, x: torch.Tensor,
                            pretrained_window: int) -> torch.Tensor:
    """Loop implementation of cosine attention with the log-spaced continuous position bias."""
    n_win, n, c = x.shape
    heads, ws = attn.num_heads, attn.window_size
    w = attn.qkv.weight
    q = x @ w[:c].t() + attn.q_bias
    k = x @ w[c:2 * c].t()
    v = x @ w[2 * c:].t() + attn.v_bias
    pos = [(i // ws, i % ws) for i in range(n)]

    def log_coord(delta: int) -> float:
        t = delta / (pretrained_window - 1) * 8
        return math.copysign(math.log2(abs(t) + 1), t) / 3

    bias = torch.zeros(heads, n, n)
    for i, (yi, xi) in enumerate(pos):
        for j, (yj, xj) in enumerate(pos):
            coord = torch.tensor([log_coord(yi - yj), log_coord(xi - xj)])
            bias[:, i, j] = 16 * torch.sigmoid(attn.rpe_mlp(coord))
    out = torch.zeros_like(x)
    d = c // heads
    for h in range(heads):
        sl = slice(h * d, (h + 1) * d)
        qn = torch.nn.functional.normalize(q[..., sl], dim=-1)
        kn = torch.nn.functional.normalize(k[..., sl], dim=-1)
        temp = min(math.exp(attn.logit_scale[h].item()), 100.0)
        weights = (qn @ kn.transpose(1, 2) * temp + bias[h]).softmax(-1)
        out[..., sl] = weights @ v[..., sl]
    return attn.proj(out)


def test_window_attention_matches_naive_loops():
    torch.manual_seed(0)
    attn = PCTWindowAttention(embed_dims=8, num_heads=2, window_size=3,
                              pretrained_window_size=4, rpe_hidden_dims=16)
    with torch.no_grad():
        attn.logit_scale.copy_(torch.tensor([[[1.0]], [[5.0]]]))  # second head hits the clamp
        attn.q_bias.normal_()
        attn.v_bias.normal_()
    x = torch.randn(5, 9, 8)
    torch.testing.assert_close(attn(x), _naive_window_attention(attn, x, 4),
                               rtol=1e-5, atol=1e-5)


def test_tiny_backbone_output_shape_and_padding():
    torch.manual_seed(0)
    model = PCTSwinV2(**TINY).eval()
    model.init_weights()
    (out, ) = model(torch.randn(2, 3, 128, 128))
    assert out.shape == (2, 8 * 32, 4, 4)
    # LayerNorm `norm3` output: per-position zero mean, unit variance (weight 1, bias 0)
    torch.testing.assert_close(out.mean(1), torch.zeros(2, 4, 4), atol=1e-4, rtol=0)
    # 96 px: stage maps 24, 12, 6, 3 are padded to the 4/4/4/2 windows
    (out, ) = model(torch.randn(1, 3, 96, 96))
    assert out.shape == (1, 256, 3, 3)


def test_shifted_windows_change_the_output():
    torch.manual_seed(0)
    shifted = PCTSwinV2(**TINY).eval()
    plain = PCTSwinV2(**dict(TINY, shift=False)).eval()
    plain.load_state_dict(shifted.state_dict())
    x = torch.randn(1, 3, 128, 128)
    assert not torch.allclose(shifted(x)[0], plain(x)[0])


def test_frozen_stages_stay_frozen_and_in_eval():
    model = PCTSwinV2(**dict(TINY, frozen_stages=4))
    model.train()
    assert not any(p.requires_grad for p in model.parameters())
    leaves = [m for m in model.modules() if not list(m.children())]
    assert not any(m.training for m in leaves)
    partly = PCTSwinV2(**dict(TINY, frozen_stages=1))
    partly.train()
    assert not any(p.requires_grad for p in partly.patch_embed.parameters())
    assert not any(p.requires_grad for p in partly.layers[0].parameters())
    assert all(p.requires_grad for p in partly.layers[1].parameters())
    assert partly.layers[1].training and not partly.layers[0].training


def test_official_buffer_names_and_bad_config():
    model = PCTSwinV2(**TINY)
    keys = model.state_dict().keys()
    assert 'layers.0.blocks.0.attn.relative_coords_table' in keys
    assert 'layers.3.blocks.0.attn.relative_position_index' in keys
    assert 'norm3.weight' in keys and 'layers.2.downsample.reduction.weight' in keys
    with pytest.raises(ValueError, match='img_size'):
        PCTSwinV2(**dict(TINY, img_size=100))
    with pytest.raises(ValueError, match='num_heads'):
        PCTSwinV2(**dict(TINY, num_heads=[1, 2]))
