"""Vector quantiser with an exponential-moving-average codebook (van den Oord et al., 2017)."""
from typing import Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn


def _all_reduce_sum(tensor: Tensor) -> Tensor:
    """Sum ``tensor`` over processes when a process group is initialised; identity otherwise."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(tensor)
    return tensor


class EMAVectorQuantizer(nn.Module):
    """Nearest-neighbour quantiser whose codebook follows an EMA of the assigned encodings.

    In training mode, each forward pass

    1. assigns every vector to its nearest code (L2);
    2. returns the *current* codes with a straight-through gradient to the input, and the
       latent (commitment) loss ``MSE(codes.detach(), inputs)``;
    3. updates the codebook: with ``n_k`` the number of vectors assigned to code k and ``s_k``
       their sum (both summed over processes when ``torch.distributed`` is initialised),
       ``N_k ← d·N_k + (1-d)·n_k``, Laplace smoothing ``N_k ← (N_k + ε) / (Σ N + K·ε) · Σ N``,
       ``W_k ← d·W_k + (1-d)·s_k``, ``codebook_k = W_k / N_k``.

    4. optionally restarts dead codes: every code whose smoothed count ``N_k`` fell below
       ``dead_code_threshold`` becomes one of this step's input vectors, drawn at random
       (on process 0 and broadcast, so that all processes keep one codebook), with
       ``N_k = 1`` and ``W_k`` = that vector.

    In eval mode the codebook is left unchanged.

    Args:
        num_codes (int): codebook size K (PCT: 2048).
        code_dims (int): code width D (PCT: 512).
        decay (float): EMA decay d (PCT: 0.9).
        eps (float): Laplace smoothing ε (PCT: 1e-5).
        dead_code_threshold (float): restart codes with ``N_k`` below this (in expected
            assignments per step); 0 turns restarts off (PCT and the Mesh-VQ-VAE reference
            have none). Default: 0.

    Buffers (persistent, the names PCT checkpoints use):
        ``codebook`` (K, D), ``ema_cluster_size`` (K,), ``ema_w`` (K, D).
    """

    def __init__(self, num_codes: int, code_dims: int, decay: float = 0.9,
                 eps: float = 1e-5, dead_code_threshold: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= decay < 1.0:
            raise ValueError(f'EMAVectorQuantizer: decay must lie in [0, 1), got {decay}')
        if dead_code_threshold < 0:
            raise ValueError('EMAVectorQuantizer: dead_code_threshold must be >= 0, got '
                             f'{dead_code_threshold}')
        self.dead_code_threshold = dead_code_threshold
        self.num_codes = num_codes
        self.code_dims = code_dims
        self.decay = decay
        self.eps = eps
        self.register_buffer('codebook', torch.randn(num_codes, code_dims))
        self.register_buffer('ema_cluster_size', torch.zeros(num_codes))
        self.register_buffer('ema_w', torch.randn(num_codes, code_dims))

    def nearest(self, x: Tensor) -> Tensor:
        """Index of the nearest code (L2) for each vector: (..., D) -> (...,) int64."""
        flat = x.reshape(-1, self.code_dims)
        dist2 = (flat.pow(2).sum(1, keepdim=True) + self.codebook.pow(2).sum(1)
                 - 2 * flat @ self.codebook.t())
        return dist2.argmin(dim=1).view(x.shape[:-1])

    def lookup(self, indices: Tensor) -> Tensor:
        """Codes for integer indices: (...,) -> (..., D)."""
        return F.embedding(indices, self.codebook)

    def soft_lookup(self, probs: Tensor) -> Tensor:
        """Probability-weighted codes: (..., K) -> (..., D) = probs @ codebook."""
        return probs @ self.codebook

    @torch.no_grad()
    def update(self, x: Tensor, indices: Tensor) -> None:
        """One EMA step of the codebook from vectors ``x`` (..., D) assigned to ``indices``."""
        flat = x.detach().reshape(-1, self.code_dims).to(self.ema_w.dtype)
        one_hot = F.one_hot(indices.reshape(-1), self.num_codes).to(flat.dtype)
        stats = torch.cat([one_hot.sum(0, keepdim=True).t(), one_hot.t() @ flat], dim=1)
        stats = _all_reduce_sum(stats.contiguous())
        counts, sums = stats[:, 0], stats[:, 1:]

        cluster_size = self.ema_cluster_size * self.decay + (1 - self.decay) * counts
        total = cluster_size.sum()
        cluster_size = (cluster_size + self.eps) / (total + self.num_codes * self.eps) * total
        self.ema_cluster_size.copy_(cluster_size)
        self.ema_w.mul_(self.decay).add_((1 - self.decay) * sums)
        self.codebook.copy_(self.ema_w / cluster_size.unsqueeze(1))
        if self.dead_code_threshold > 0:
            self._restart_dead_codes(flat)

    def _restart_dead_codes(self, flat: Tensor) -> None:
        """Move the codes whose count is below the threshold onto random rows of ``flat``
        (N, D); process 0 draws them and broadcasts."""
        dead = self.ema_cluster_size < self.dead_code_threshold
        if not bool(dead.any()):  # the same on every process: the counts are all-reduced
            return
        picks = torch.randint(len(flat), (int(dead.sum()),), device=flat.device)
        fresh = flat[picks].contiguous()
        if dist.is_available() and dist.is_initialized():
            dist.broadcast(fresh, src=0)
        self.codebook[dead] = fresh
        self.ema_w[dead] = fresh
        self.ema_cluster_size[dead] = 1.0

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Quantise ``x`` (..., D).

        Returns:
            tuple: ``quantized`` (..., D) (the codes; when ``x`` requires grad, a straight-through
            estimator passes their gradient to ``x``),
            ``indices`` (...,) int64 and the scalar latent loss ``MSE(codes.detach(), x)``.
        """
        indices = self.nearest(x.detach())
        codes = self.lookup(indices)
        latent_loss = F.mse_loss(codes.detach(), x)
        if self.training:
            self.update(x, indices)
        quantized = x + (codes - x).detach() if x.requires_grad else codes
        return quantized, indices, latent_loss
