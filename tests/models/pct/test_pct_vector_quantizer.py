import numpy as np
import pytest
import torch
from torch import nn

from postometro_mm.models.layers import EMAVectorQuantizer
from postometro_mm.models.layers import vector_quantizer as vq_module


def test_nearest_matches_brute_force():
    torch.manual_seed(0)
    vq = EMAVectorQuantizer(num_codes=37, code_dims=5)
    x = torch.randn(4, 9, 5)
    brute = torch.tensor([[min(range(37), key=lambda k: float(((v - vq.codebook[k])**2).sum()))
                           for v in row] for row in x])
    assert torch.equal(vq.nearest(x), brute)
    assert torch.equal(vq.lookup(brute), vq.codebook[brute])


def _hand_made_quantizer() -> EMAVectorQuantizer:
    vq = EMAVectorQuantizer(num_codes=3, code_dims=2, decay=0.5, eps=0.1)
    vq.codebook.copy_(torch.tensor([[0., 0.], [10., 0.], [0., 10.]]))
    vq.ema_cluster_size.copy_(torch.tensor([2., 1., 1.]))
    vq.ema_w.copy_(torch.tensor([[0., 0.], [10., 0.], [0., 10.]]))
    return vq


def test_ema_update_matches_formula():
    vq = _hand_made_quantizer().train()
    x = torch.tensor([[1., 1.], [9., 1.], [11., -1.], [-1., 0.]])  # codes 0, 1, 1, 0
    quantized, indices, latent = vq(x)
    assert indices.tolist() == [0, 1, 1, 0]
    # the returned codes are the codebook *before* the update
    assert torch.equal(quantized, torch.tensor([[0., 0.], [10., 0.], [10., 0.], [0., 0.]]))
    assert latent.item() == pytest.approx(((x.numpy() - quantized.numpy())**2).mean())

    d, eps = 0.5, 0.1
    counts = np.array([2., 2., 0.])
    sums = np.array([[0., 1.], [20., 0.], [0., 0.]])
    size = np.array([2., 1., 1.]) * d + (1 - d) * counts  # [2, 1.5, 0.5]
    total = size.sum()
    size = (size + eps) / (total + 3 * eps) * total
    w = np.array([[0., 0.], [10., 0.], [0., 10.]]) * d + (1 - d) * sums
    np.testing.assert_allclose(vq.ema_cluster_size.numpy(), size, rtol=1e-6)
    np.testing.assert_allclose(vq.ema_w.numpy(), w, rtol=1e-6)
    np.testing.assert_allclose(vq.codebook.numpy(), w / size[:, None], rtol=1e-6)


def test_dead_codes_restart_on_input_vectors_only_when_asked():
    x = torch.tensor([[1., 1.], [9., 1.], [11., -1.], [-1., 0.]])  # code 2 gets nothing
    plain = _hand_made_quantizer().train()
    plain(x)
    restarting = _hand_made_quantizer().train()
    restarting.dead_code_threshold = 0.8  # code 2's count falls to ~0.53, the others stay > 1
    torch.manual_seed(0)
    restarting(x)
    assert torch.equal(restarting.codebook[:2], plain.codebook[:2])
    assert torch.equal(restarting.ema_cluster_size[:2], plain.ema_cluster_size[:2])
    assert any(torch.equal(restarting.codebook[2], row) for row in x)
    assert torch.equal(restarting.ema_w[2], restarting.codebook[2])
    assert restarting.ema_cluster_size[2] == 1.0
    with pytest.raises(ValueError, match='dead_code_threshold'):
        EMAVectorQuantizer(4, 2, dead_code_threshold=-1)


def test_eval_mode_keeps_codebook_and_returns_exact_codes():
    vq = _hand_made_quantizer().eval()
    before = vq.codebook.clone()
    quantized, indices, _ = vq(torch.tensor([[9.5, 0.2]]))
    assert torch.equal(vq.codebook, before)
    assert torch.equal(quantized, before[indices])


def test_straight_through_gradient_reaches_encoder():
    torch.manual_seed(0)
    encoder = nn.Linear(3, 4)
    vq = EMAVectorQuantizer(num_codes=8, code_dims=4).train()
    inputs = torch.randn(6, 3)
    quantized, _, latent = vq(encoder(inputs))
    (quantized.sum() + latent).backward()
    assert encoder.weight.grad is not None and encoder.weight.grad.abs().sum() > 0
    # d(sum of quantized)/d(encoded) is the identity under the straight-through estimator
    encoded = encoder(inputs).detach().requires_grad_(True)
    vq.eval()
    quantized, _, _ = vq(encoded)
    quantized.sum().backward()
    assert torch.equal(encoded.grad, torch.ones_like(encoded))


def test_all_reduce_only_with_process_group(monkeypatch):
    calls = []

    def fake_all_reduce(tensor):
        calls.append(tensor.shape)
        tensor.mul_(2)  # as if a second process had identical statistics

    monkeypatch.setattr(vq_module.dist, 'all_reduce', fake_all_reduce)
    x = torch.tensor([[1., 1.], [9., 1.]])

    monkeypatch.setattr(vq_module.dist, 'is_initialized', lambda: False)
    single = _hand_made_quantizer().train()
    single(x)
    assert calls == []

    monkeypatch.setattr(vq_module.dist, 'is_initialized', lambda: True)
    synced = _hand_made_quantizer().train()
    synced(x)
    assert len(calls) == 1
    doubled = _hand_made_quantizer().train()
    monkeypatch.setattr(vq_module.dist, 'is_initialized', lambda: False)
    doubled(torch.cat([x, x]))
    torch.testing.assert_close(synced.codebook, doubled.codebook)
    torch.testing.assert_close(synced.ema_cluster_size, doubled.ema_cluster_size)


def _restart_on_two_processes(rank: int, init_file: str, out_dir: str) -> None:
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank, world_size=2)
    try:
        torch.manual_seed(rank)  # each process would draw other fresh codes on its own
        vq = _hand_made_quantizer().train()
        vq.dead_code_threshold = 0.8
        batch = torch.tensor([[1., 1.], [9., 1.]]) + rank  # different data per process
        vq(batch)
        torch.save({k: v.clone() for k, v in vq.state_dict().items()},
                   f'{out_dir}/rank{rank}.pth')
    finally:
        dist.destroy_process_group()


def test_restarted_codes_are_the_same_on_every_process(tmp_path):
    import torch.multiprocessing as mp
    mp.spawn(_restart_on_two_processes, args=(str(tmp_path / 'init'), str(tmp_path)),
             nprocs=2, join=True)
    states = [torch.load(tmp_path / f'rank{r}.pth', weights_only=True) for r in range(2)]
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key
    # code 2 got no vector on either process, so it restarted on a vector of process 0
    rank0_batch = torch.tensor([[1., 1.], [9., 1.]])
    assert any(torch.equal(states[0]['codebook'][2], row) for row in rank0_batch)
