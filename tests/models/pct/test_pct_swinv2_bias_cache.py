"""PCTSwinV2's cached relative position bias: bit-identical outputs, recomputed whenever the
weights, the mode or the trainability change."""
import copy

import torch

from postometro_mm.models.backbones.pct_swinv2 import PCTSwinV2, PCTWindowAttention

TINY = dict(img_size=64, embed_dims=16, depths=[2, 2, 1, 1], num_heads=[1, 2, 2, 4],
            window_size=[4, 4, 2, 2], pretrained_window_size=[3, 3, 2, 2], drop_path_rate=0.0)


def _attentions(model):
    return [m for m in model.modules() if isinstance(m, PCTWindowAttention)]


def _uncached(model):
    """Outputs with every bias recomputed (the computation before caching existed)."""
    originals = {}
    for attn in _attentions(model):
        originals[attn] = attn.position_bias
        attn.position_bias = attn._compute_position_bias
    try:
        with torch.no_grad():
            return model(_images())[0]
    finally:
        for attn, method in originals.items():
            attn.position_bias = method


def _images():
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))


def _frozen_model(seed=0):
    torch.manual_seed(seed)
    model = PCTSwinV2(**TINY, frozen_stages=4)
    model.init_weights()
    for attn in _attentions(model):  # a non-trivial bias MLP
        torch.nn.init.normal_(attn.rpe_mlp[0].weight, std=1.0)
    return model.eval()


def test_frozen_eval_model_caches_and_stays_bit_identical():
    model = _frozen_model()
    attn = _attentions(model)[0]
    with torch.no_grad():
        first = model(_images())[0]
        cached = attn._bias_cache[1]
        second = model(_images())[0]
    assert attn._bias_cache[1] is cached  # reused, not recomputed
    assert torch.equal(first, second) and torch.equal(first, _uncached(model))


def test_cache_follows_weights_mode_and_trainability():
    model = _frozen_model()
    with torch.no_grad():
        model(_images())
    # load_state_dict copies new weights in place: the bias is recomputed
    other = _frozen_model(seed=1)
    model.load_state_dict(other.state_dict())
    with torch.no_grad():
        loaded = model(_images())[0]
    assert torch.equal(loaded, _uncached(other))
    # an in-place edit of the bias MLP is seen too
    attn = _attentions(model)[0]
    with torch.no_grad():
        attn.rpe_mlp[2].weight.mul_(-1.0)
        edited = model(_images())[0]
    assert not torch.equal(edited, loaded) and torch.equal(edited, _uncached(model))
    # train() drops the cache; training mode or a trainable bias MLP never caches
    model.train()
    assert all(a._bias_cache is None for a in _attentions(model))
    trainable = copy.deepcopy(model).eval().requires_grad_(True)
    out = trainable(_images())[0]
    assert all(a._bias_cache is None for a in _attentions(trainable))
    out.sum().backward()
    assert _attentions(trainable)[0].rpe_mlp[0].weight.grad is not None
