"""Mesh convolution with spatially varying kernels and learned (un)pooling (Zhou et al.,
NeurIPS 2020, "Fully Convolutional Mesh Autoencoder using Efficient Spatially Varying Kernels"),
the layers of the Mesh-VQ-VAE.

A layer maps features on an input vertex set (``in_vertices``) to an output vertex set
(``out_vertices``) through a *connection file*: for each output vertex, up to ``M`` input
neighbours. The ``.npy`` format of the MeshConvolution release (int32 ``(out_vertices,
1 + 2M)``, rows ``[N, id_0, d_0, …, id_{N-1}, d_{N-1}, in_vertices, -1, …]``; the hop distances
``d`` are unused) is read by :func:`read_connection_file`. Padding slots name ``in_vertices``,
a zero row appended to the input, and are masked out.
"""
import math
import os
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ConnectionFileError(ValueError):
    """A connection file that is missing or not in the MeshConvolution format."""


def read_connection_file(path: str, in_vertices: Optional[int] = None
                         ) -> Tuple[np.ndarray, np.ndarray, int]:
    """Read a MeshConvolution connection file.

    Args:
        path: the ``.npy`` file.
        in_vertices: size of the input vertex set; None infers it from the padding slots
            (a file whose rows are all full needs it).

    Returns:
        tuple: neighbour ids (out_vertices, M) int64 (padding = ``in_vertices``), neighbour
        counts (out_vertices,) int64 and ``in_vertices``.

    Raises:
        ConnectionFileError: missing file, wrong dtype or shape, counts out of range, ids out of
            range, inconsistent padding; the message names the file.
    """
    if not os.path.isfile(path):
        raise ConnectionFileError(f'connection file "{path}" does not exist')
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ConnectionFileError(f'{path}: cannot be read as a .npy array ({err})') from None
    if data.ndim != 2 or data.shape[1] < 3 or data.shape[1] % 2 != 1 or data.shape[0] == 0:
        raise ConnectionFileError(f'{path}: expected an (out_vertices, 1 + 2M) array, got '
                                  f'shape {data.shape}')
    if data.dtype.kind not in 'iu':
        raise ConnectionFileError(f'{path}: expected integers, got {data.dtype}')
    data = data.astype(np.int64)
    counts = data[:, 0]
    pairs = data[:, 1:].reshape(len(data), -1, 2)
    ids, max_neighbors = pairs[:, :, 0], pairs.shape[1]
    if counts.min() < 1 or counts.max() > max_neighbors:
        raise ConnectionFileError(f'{path}: neighbour counts must lie in [1, {max_neighbors}], '
                                  f'got {counts.min()}..{counts.max()}')
    padding = np.arange(max_neighbors)[None, :] >= counts[:, None]
    pad_ids = np.unique(ids[padding])
    if len(pad_ids) > 1 or (in_vertices is not None and len(pad_ids)
                            and pad_ids[0] != in_vertices):
        raise ConnectionFileError(f'{path}: padding slots must all name the input size '
                                  f'{in_vertices if in_vertices is not None else ""}, got '
                                  f'{pad_ids[:5].tolist()}')
    if in_vertices is None:
        if not len(pad_ids):
            raise ConnectionFileError(f'{path}: every row is full, so the input size cannot be '
                                      'inferred: pass in_vertices')
        in_vertices = int(pad_ids[0])
    real = ids[~padding]
    if real.min() < 0 or real.max() >= in_vertices:
        raise ConnectionFileError(f'{path}: neighbour ids must lie in [0, {in_vertices}), got '
                                  f'{real.min()}..{real.max()}')
    ids = np.where(padding, in_vertices, ids)
    return ids, counts, in_vertices


class MeshConv(nn.Module):
    """One Mesh-VQ-VAE layer: spatially varying convolution, learned neighbour-average
    (un)pooling, or a mix of both.

    * Convolution (``residual_rate < 1``): every (output vertex, neighbour slot) pair mixes
      ``num_bases`` shared kernels ``weights`` (K, Cout·Cin) with its own coefficients
      ``w_weights`` (out_vertices, M, K); ``out[p] = Σ_m W[p, m] x[id[p, m]] + bias`` with
      ``W[p, m] = Σ_k w_weights[p, m, k] weights[k]`` viewed as (Cout, Cin), then ELU when
      ``activation``.
    * Residual / pooling (``residual_rate > 0``): the input, projected by ``weight_res``
      (Cout, Cin) when the channel counts differ, taken as is when the vertex sets are equal,
      otherwise averaged over the neighbours with the learned weights ``|p_neighbors|``
      (out_vertices, M) normalised per output vertex. No activation.
    * Output ``conv · sqrt(1 - r) + residual · sqrt(r)`` with ``r = residual_rate``.

    Neighbour ids and masks are non-persistent buffers (they follow ``.to()`` and come from the
    connection file, not the checkpoint); any batch size, one path for training and
    inference. Parameter names follow the reference layout (``weights``, ``bias``,
    ``w_weights``, ``p_neighbors``, ``weight_res``) without its layer-index suffix.

    Args:
        in_channels: input feature size Cin.
        out_channels: output feature size Cout.
        connection_file: MeshConvolution ``.npy`` connection file of this layer.
        in_vertices: size of the input vertex set (None: inferred from the file's padding).
        num_bases: K, shared kernels of the convolution.
        residual_rate: r in [0, 1]; 0 = convolution only, 1 = (un)pooling / residual only.
        activation: ELU after the convolution (the reference's last decoder layer has none).

    Shapes:
        input (B, in_vertices, Cin) → output (B, out_vertices, Cout).
    """

    def __init__(self, in_channels: int, out_channels: int, connection_file: str,
                 in_vertices: Optional[int] = None, num_bases: int = 9,
                 residual_rate: float = 0.0, activation: bool = True) -> None:
        super().__init__()
        if not 0.0 <= residual_rate <= 1.0:
            raise ValueError(f'residual_rate must lie in [0, 1], got {residual_rate}')
        ids, counts, in_vertices = read_connection_file(connection_file, in_vertices)
        self.connection_file = connection_file
        self.in_channels, self.out_channels = in_channels, out_channels
        self.in_vertices, (self.out_vertices, self.max_neighbors) = in_vertices, ids.shape
        self.residual_rate = float(residual_rate)
        self.activation = activation
        mask = ids < in_vertices
        self.register_buffer('neighbor_ids', torch.from_numpy(ids), persistent=False)
        self.register_buffer('neighbor_mask', torch.from_numpy(mask.astype(np.float32)),
                             persistent=False)
        # the reference's initial scale: the mean neighbour count, rounded
        mean_neighbors = max(int(round(float(counts.mean()))), 1)

        if self.residual_rate < 1.0:
            self.num_bases = num_bases
            self.weights = nn.Parameter(torch.randn(num_bases, out_channels * in_channels))
            self.bias = nn.Parameter(torch.zeros(out_channels))
            self.w_weights = nn.Parameter(
                torch.randn(self.out_vertices, self.max_neighbors, num_bases)
                / (mean_neighbors * num_bases))
        if self.residual_rate > 0.0:
            if in_channels != out_channels:
                self.weight_res = nn.Parameter(
                    torch.randn(out_channels, in_channels) / out_channels)
            if in_vertices != self.out_vertices:
                self.p_neighbors = nn.Parameter(
                    torch.randn(self.out_vertices, self.max_neighbors) / mean_neighbors)

    def extra_repr(self) -> str:
        return (f'{self.in_channels}->{self.out_channels}, vertices {self.in_vertices}->'
                f'{self.out_vertices}, M={self.max_neighbors}, '
                f'residual_rate={self.residual_rate}, activation={self.activation}')

    def _neighbors(self, x: Tensor) -> Tensor:
        """(out_vertices, M, B·C): the input features of every neighbour slot (zeros for
        padding), vertex-major so that the per-vertex products below are one batched matmul
        over contiguous memory."""
        batch, _, channels = x.shape
        padded = torch.cat([x, x.new_zeros(batch, 1, channels)], dim=1).transpose(0, 1)
        return padded[self.neighbor_ids].reshape(self.out_vertices, self.max_neighbors,
                                                 batch * channels)

    def kernels(self) -> Tensor:
        """(out_vertices, M, Cout, Cin): the per-vertex, per-slot kernels of the convolution
        (padding slots zero)."""
        coefficients = self.w_weights * self.neighbor_mask[..., None]
        kernels = torch.einsum('pmk,kc->pmc', coefficients, self.weights)
        return kernels.view(self.out_vertices, self.max_neighbors, self.out_channels,
                            self.in_channels)

    def pooling_weights(self) -> Tensor:
        """(out_vertices, M): the normalised neighbour-average weights of the pooling path."""
        weights = self.p_neighbors.abs() * self.neighbor_mask
        return weights / (weights.sum(dim=1, keepdim=True) + 1e-8)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3 or x.shape[1:] != (self.in_vertices, self.in_channels):
            raise ValueError(f'MeshConv ({self.connection_file}) expects input (B, '
                             f'{self.in_vertices}, {self.in_channels}), got {tuple(x.shape)}')
        batch = x.shape[0]
        needs_neighbors = self.residual_rate < 1.0 or self.in_vertices != self.out_vertices
        neighbors = self._neighbors(x) if needs_neighbors else None
        out = 0.0
        if self.residual_rate < 1.0:
            # Σ_m W[p,m] x[id] evaluated basis-first: per vertex, (K, M) coefficients times the
            # (M, B·Cin) neighbours give K mixtures, then one (K·Cin → Cout) product; the same
            # sum as with :meth:`kernels`, without materialising the (P, M, Cout, Cin) kernels
            coefficients = (self.w_weights * self.neighbor_mask[..., None]).transpose(1, 2)
            mixed = torch.bmm(coefficients, neighbors).view(
                self.out_vertices, self.num_bases, batch, self.in_channels)
            mixed = mixed.permute(2, 0, 1, 3).reshape(batch, self.out_vertices,
                                                      self.num_bases * self.in_channels)
            bases = self.weights.view(self.num_bases, self.out_channels, self.in_channels)
            conv = mixed @ bases.transpose(1, 2).reshape(-1, self.out_channels) + self.bias
            if self.activation:
                conv = F.elu(conv)
            out = conv * math.sqrt(1.0 - self.residual_rate)
        if self.residual_rate > 0.0:
            if self.in_vertices == self.out_vertices:
                residual = x
            else:
                residual = torch.bmm(self.pooling_weights()[:, None], neighbors).view(
                    self.out_vertices, batch, self.in_channels).transpose(0, 1)
            if hasattr(self, 'weight_res'):
                residual = residual @ self.weight_res.t()
            out = out + residual * math.sqrt(self.residual_rate)
        return out
