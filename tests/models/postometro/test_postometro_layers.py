"""Sine position encoding and pre-norm transformer layers against independent computations."""
import math

import pytest
import torch
import torch.nn.functional as F

from postometro_mm.models.layers import (PreNormDecoderLayer, PreNormEncoderLayer,
                                         PreNormTransformer, SinePositionEncoding2D)


def test_sine_position_encoding_matches_hand_computation():
    num_feats, h, w = 4, 2, 3
    pe = SinePositionEncoding2D(num_feats)(h, w)
    assert pe.shape == (2 * num_feats, h, w)
    eps, scale, temp = 1e-6, 2 * math.pi, 10000.0
    for row in range(h):
        for col in range(w):
            y = (row + 1) / (h + eps) * scale
            x = (col + 1) / (w + eps) * scale
            expected = []
            for value in (y, x):
                for i in range(num_feats):
                    freq = temp ** (2 * (i // 2) / num_feats)
                    expected.append(math.sin(value / freq) if i % 2 == 0 else
                                    math.cos(value / freq))
            assert torch.allclose(pe[:, row, col], torch.tensor(expected), atol=1e-6)


def test_sine_position_encoding_rejects_odd_width():
    with pytest.raises(ValueError, match='even'):
        SinePositionEncoding2D(3)


def _attention(q_in, k_in, v_in, attn, mask=None):
    """Multi-head attention from nn.MultiheadAttention's parameters, written out."""
    c = q_in.shape[-1]
    heads = attn.num_heads
    w, b = attn.in_proj_weight, attn.in_proj_bias
    q = q_in @ w[:c].T + b[:c]
    k = k_in @ w[c:2 * c].T + b[c:2 * c]
    v = v_in @ w[2 * c:].T + b[2 * c:]

    def split(t):
        return t.reshape(t.shape[0], t.shape[1], heads, c // heads).transpose(1, 2)

    q, k, v = split(q), split(k), split(v)
    logits = q @ k.transpose(-1, -2) / math.sqrt(c // heads)
    if mask is not None:
        logits = logits.masked_fill(mask, float('-inf'))
    out = (logits.softmax(-1) @ v).transpose(1, 2).reshape(q_in.shape[0], q_in.shape[1], c)
    return out @ attn.out_proj.weight.T + attn.out_proj.bias


def _ln(x, norm):
    return F.layer_norm(x, (x.shape[-1], ), norm.weight, norm.bias, norm.eps)


def _ffn(x, layer):
    return torch.relu(x @ layer.linear1.weight.T + layer.linear1.bias) @ layer.linear2.weight.T \
        + layer.linear2.bias


def test_prenorm_encoder_layer_equals_formula():
    torch.manual_seed(0)
    layer = PreNormEncoderLayer(16, 4, 32, dropout=0.1).eval()
    x, pos = torch.randn(2, 5, 16), torch.randn(1, 5, 16)
    h = _ln(x, layer.norm1)
    x1 = x + _attention(h + pos, h + pos, h, layer.self_attn)
    expected = x1 + _ffn(_ln(x1, layer.norm2), layer)
    assert torch.allclose(layer(x, pos), expected, atol=1e-5)


def test_prenorm_decoder_layer_equals_formula_with_mask():
    torch.manual_seed(0)
    layer = PreNormDecoderLayer(16, 2, 24, dropout=0.1).eval()
    x, memory, pos = torch.randn(2, 4, 16), torch.randn(2, 6, 16), torch.randn(1, 6, 16)
    mask = torch.tensor([[0, 0, 1, 1], [0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 1, 0]]).bool()
    h = _ln(x, layer.norm1)
    x1 = x + _attention(h, h, h, layer.self_attn, mask)
    h = _ln(x1, layer.norm2)
    x2 = x1 + _attention(h, memory + pos, memory, layer.multihead_attn)
    expected = x2 + _ffn(_ln(x2, layer.norm3), layer)
    out = layer(x, memory, self_attn_mask=mask, memory_pos=pos)
    assert torch.allclose(out, expected, atol=1e-5)
    # the mask matters: query 0 must not see key 2
    assert not torch.allclose(layer(x, memory, memory_pos=pos), out, atol=1e-4)


def test_transformer_memory_excludes_prefix_and_keys_match_reference():
    torch.manual_seed(0)
    model = PreNormTransformer(8, num_heads=2, feedforward_channels=16, num_encoder_layers=2,
                               num_decoder_layers=1).eval()
    keys = set(model.state_dict())
    assert {'encoder.norm.weight', 'decoder.norm.bias',
            'encoder.layers.1.self_attn.in_proj_weight', 'decoder.layers.0.norm3.weight',
            'decoder.layers.0.multihead_attn.out_proj.weight'} <= keys
    src, queries = torch.randn(1, 5, 8), torch.randn(1, 3, 8)
    enc, dec = model(src, queries, num_prefix_tokens=1)
    assert torch.allclose(enc, model.encoder(src))
    assert torch.allclose(dec, model.decoder(queries, enc[:, 1:]))
