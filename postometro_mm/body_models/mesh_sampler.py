"""Mesh down/up-sampling between resolution levels, mesh adjacency and attention masks.

Two on-disk layouts hold the same content (level 0 is the full mesh):

* legacy ``mesh_downsampling.npz`` (GraphCMR / METRO / FastMETRO / PostoMETRO): members ``A``
  (adjacency per level), ``U`` (upsampling k+1 -> k), ``D`` (downsampling k -> k+1) as pickled
  scipy.sparse matrices, ``F`` (faces per level), and ``M`` (pickled mesh objects of foreign
  classes, never read here). Reading it needs ``allow_pickle=True`` and goes through an
  allow-list unpickler (numpy arrays and scipy CSC/CSR matrices only).
* the pickle-free archive written by :meth:`MeshSampler.save` (CSR parts as plain arrays).
"""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
import torch
from mmpose.registry import MODELS
from torch import Tensor, nn

from .npz_io import atomic_write, load_npz_member, npz_member_names, save_npz_atomic
from .restricted_pickle import normalize_sparse

FORMAT_TAG = 'postometro_mm.mesh_sampler.v1'
LEGACY_KEYS = ('A', 'U', 'D', 'F')
SAMPLER_SOURCE_HINT = (
    'mesh_downsampling.npz is distributed with the GraphCMR / METRO / FastMETRO / PostoMETRO '
    'code (data folder); postometro_mm does not download it: point the config to your copy.')

SamplerMatrices = Dict[str, List]


def _check_matrices(matrices: SamplerMatrices, source: str) -> None:
    """Validate level counts and the shapes of A, U, D and F."""
    adjacency, up, down, faces = (matrices[k] for k in LEGACY_KEYS)
    num_levels = len(adjacency)
    if num_levels < 1 or len(faces) != num_levels or len(up) != num_levels - 1 or \
            len(down) != num_levels - 1:
        raise ValueError(f'{source}: inconsistent level counts: {len(adjacency)} A, {len(faces)} '
                         f'F, {len(up)} U, {len(down)} D (expected L, L, L-1, L-1)')
    sizes = [a.shape[0] for a in adjacency]
    for k, a in enumerate(adjacency):
        if a.shape != (sizes[k], sizes[k]):
            raise ValueError(f'{source}: A[{k}] must be square, got {a.shape}')
        if faces[k].ndim != 2 or faces[k].shape[1] != 3 or \
                (faces[k].size and (faces[k].min() < 0 or faces[k].max() >= sizes[k])):
            raise ValueError(f'{source}: F[{k}] must be (F, 3) indices below {sizes[k]}, got '
                             f'shape {faces[k].shape}')
    for k in range(num_levels - 1):
        if down[k].shape != (sizes[k + 1], sizes[k]):
            raise ValueError(f'{source}: D[{k}] has shape {down[k].shape}, expected '
                             f'{(sizes[k + 1], sizes[k])}')
        if up[k].shape != (sizes[k], sizes[k + 1]):
            raise ValueError(f'{source}: U[{k}] has shape {up[k].shape}, expected '
                             f'{(sizes[k], sizes[k + 1])}')


def _sparse_to_arrays(prefix: str, matrix: sp.spmatrix) -> Dict[str, np.ndarray]:
    csr = sp.csr_matrix(matrix)
    csr.sort_indices()
    return {f'{prefix}_data': csr.data.astype(np.float64), f'{prefix}_indices':
            csr.indices.astype(np.int64), f'{prefix}_indptr': csr.indptr.astype(np.int64),
            f'{prefix}_shape': np.asarray(csr.shape, dtype=np.int64)}


def _sparse_from_arrays(archive, prefix: str) -> sp.csc_matrix:
    shape = tuple(int(s) for s in archive[f'{prefix}_shape'])
    return sp.csr_matrix((archive[f'{prefix}_data'], archive[f'{prefix}_indices'],
                          archive[f'{prefix}_indptr']), shape=shape).tocsc()


def read_mesh_sampler_file(filename: str, allow_pickle: bool = False) -> SamplerMatrices:
    """Read A, U, D (scipy CSC) and F (int64) lists from either layout.

    Args:
        filename (str): legacy ``mesh_downsampling.npz`` or a pickle-free sampler file.
        allow_pickle (bool): permit the legacy pickled layout. Default: False.

    Returns:
        dict: ``A`` (L), ``U`` (L-1), ``D`` (L-1) CSC matrices and ``F`` (L) int64 arrays.
    """
    filename = os.fspath(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'mesh sampler file {filename} does not exist. '
                                f'{SAMPLER_SOURCE_HINT}')
    members = set(npz_member_names(filename))
    if 'format' in members:
        with np.load(filename, allow_pickle=False) as archive:
            tag = str(archive['format'])
            if tag != FORMAT_TAG:
                raise ValueError(f'{filename}: unknown sampler format {tag!r} '
                                 f'(expected {FORMAT_TAG!r})')
            num_levels = int(archive['num_levels'])
            matrices = {
                'A': [_sparse_from_arrays(archive, f'adjacency_{k}') for k in range(num_levels)],
                'U': [_sparse_from_arrays(archive, f'up_{k}') for k in range(num_levels - 1)],
                'D': [_sparse_from_arrays(archive, f'down_{k}') for k in range(num_levels - 1)],
                'F': [archive[f'faces_{k}'].astype(np.int64) for k in range(num_levels)]}
    elif set(LEGACY_KEYS) <= members:
        if not allow_pickle:
            raise ValueError(
                f'{filename} is a legacy pickled mesh_downsampling.npz: pass allow_pickle=True '
                'to read it (only numpy arrays and scipy.sparse matrices are accepted; member '
                'M is never read), or convert it once with '
                'tools/model_converters/mesh_sampler_to_npz.py')
        matrices = {}
        for key in LEGACY_KEYS:
            items = list(load_npz_member(filename, key))
            if key == 'F':
                matrices[key] = [np.asarray(f).astype(np.int64) for f in items]
            else:
                matrices[key] = [normalize_sparse(m, filename, f'{key}[{k}]')
                                 for k, m in enumerate(items)]
    else:
        raise ValueError(f'{filename}: neither a pickle-free mesh sampler (member "format") '
                         f'nor a legacy mesh_downsampling.npz (members {LEGACY_KEYS}); '
                         f'found {sorted(members)}')
    _check_matrices(matrices, filename)
    return matrices


def save_legacy_mesh_sampler(path: str, adjacency: Sequence[sp.spmatrix],
                             up: Sequence[sp.spmatrix], down: Sequence[sp.spmatrix],
                             faces: Sequence[np.ndarray], overwrite: bool = False) -> str:
    """Write the legacy pickled layout (A, U, D as CSC matrices, F as uint32; no ``M``)."""
    def object_array(items: Sequence) -> np.ndarray:
        array = np.empty(len(items), dtype=object)
        array[:] = list(items)
        return array

    matrices = {'A': [sp.csc_matrix(a) for a in adjacency], 'U': [sp.csc_matrix(u) for u in up],
                'D': [sp.csc_matrix(d) for d in down],
                'F': [np.asarray(f, dtype=np.uint32) for f in faces]}
    _check_matrices(matrices, str(path))
    arrays = {key: object_array(value) for key, value in matrices.items()}
    return atomic_write(path, lambda f: np.savez(f, **arrays), overwrite)


def _to_torch_sparse(matrix: sp.spmatrix) -> Tensor:
    coo = sp.coo_matrix(matrix)
    indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    values = torch.from_numpy(coo.data.astype(np.float32))
    return torch.sparse_coo_tensor(indices, values, coo.shape, check_invariants=True).coalesce()


def _row_gather_table(matrix: sp.spmatrix) -> Tuple[Tensor, Tensor]:
    """The non-zeros of each row of ``matrix`` (V_out, V_in) as a gather table: column
    indices (V_out, K) int64 and values (V_out, K) float32, K the longest row, shorter rows
    padded with column 0 and value 0. ``out[r] = sum_k values[r, k] * x[indices[r, k]]``."""
    csr = sp.csr_matrix(matrix)
    csr.sort_indices()
    counts = np.diff(csr.indptr)
    width = max(int(counts.max()) if len(counts) else 0, 1)
    indices = np.zeros((csr.shape[0], width), np.int64)
    values = np.zeros((csr.shape[0], width), np.float32)
    slots = np.arange(len(csr.indices)) - np.repeat(csr.indptr[:-1], counts)
    rows = np.repeat(np.arange(csr.shape[0]), counts)
    indices[rows, slots] = csr.indices
    values[rows, slots] = csr.data
    return torch.from_numpy(indices), torch.from_numpy(values)


def row_normalized_adjacency(adjacency: sp.spmatrix) -> sp.coo_matrix:
    """Row-normalised ``A + I`` (METRO's ``adjmat_sparse`` with one-hop neighbourhoods).

    Every stored neighbour and the vertex itself get weight ``1 / (degree + 1)``; entries are
    ordered row-major with sorted columns, values computed in float64.
    """
    binary = sp.csr_matrix(adjacency, dtype=np.float64, copy=True)
    binary.data[:] = 1.0
    binary = binary + sp.identity(binary.shape[0], dtype=np.float64, format='csr')
    binary.data[:] = 1.0
    binary.sort_indices()
    inverse_degree = 1.0 / np.asarray(binary.sum(axis=1)).reshape(-1)
    normalized = sp.diags(inverse_degree) @ binary
    normalized.sort_indices()
    return sp.coo_matrix(normalized)


@MODELS.register_module()
class MeshSampler(nn.Module):
    """Sparse down/up-sampling between mesh levels, adjacency, edges and attention masks.

    Args:
        filename (str): legacy ``mesh_downsampling.npz`` or a file written by :meth:`save`.
        allow_pickle (bool): permit reading the legacy pickled layout. Default: False.

    The sampling matrices are non-persistent sparse buffers ``down_{k}`` (V_{k+1}, V_k) and
    ``up_{k}`` (V_k, V_{k+1}): they follow ``.to(device)`` and stay out of checkpoints. Each
    also has a gather-table form (``<name>_index``, ``<name>_weight``, see
    :func:`_row_gather_table`), used instead of the sparse product while the model is traced
    for ONNX export (ONNX has no sparse tensors); eager outputs always come from the sparse
    product.
    """

    def __init__(self, filename: str, allow_pickle: bool = False) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self._matrices = read_mesh_sampler_file(self.filename, allow_pickle)
        for k, (up, down) in enumerate(zip(self._matrices['U'], self._matrices['D'])):
            for name, matrix in ((f'down_{k}', down), (f'up_{k}', up)):
                self.register_buffer(name, _to_torch_sparse(matrix), persistent=False)
                index, weight = _row_gather_table(matrix)
                self.register_buffer(f'{name}_index', index, persistent=False)
                self.register_buffer(f'{name}_weight', weight, persistent=False)

    @property
    def num_levels(self) -> int:
        return len(self._matrices['A'])

    @property
    def num_vertices(self) -> Tuple[int, ...]:
        """Vertex count per level, e.g. (6890, 1723, 431)."""
        return tuple(int(a.shape[0]) for a in self._matrices['A'])

    @property
    def _device(self) -> torch.device:
        buffer = next(iter(self.buffers()), None)
        return torch.device('cpu') if buffer is None else buffer.device

    def _level(self, level: int) -> int:
        if not -self.num_levels <= level < self.num_levels:
            raise IndexError(f'mesh level {level} out of range for {self.num_levels} levels '
                             f'{self.num_vertices}')
        return level % self.num_levels

    def _sparse_chain(self, x: Tensor, names: Sequence[str], expected: int) -> Tensor:
        """Apply the matrices ``names`` in order to (B, V, C) features."""
        if x.dim() != 3 or x.shape[1] != expected:
            raise ValueError(f'expected (B, {expected}, C) vertex features, got {tuple(x.shape)}')
        if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
            for name in names:
                weight = getattr(self, f'{name}_weight').to(x.dtype)
                x = (x[:, getattr(self, f'{name}_index')] * weight[None, :, :, None]).sum(2)
            return x
        batch, _, channels = x.shape
        flat = x.transpose(0, 1).reshape(expected, batch * channels)
        for name in names:
            matrix = getattr(self, name)
            flat = torch.sparse.mm(matrix, flat.to(matrix.dtype))
        return flat.reshape(-1, batch, channels).transpose(0, 1).to(x.dtype)

    def downsample(self, x: Tensor, from_level: int = 0, to_level: int = -1) -> Tensor:
        """Downsample vertex features.

        Args:
            x (Tensor): (B, V_from, C).
            from_level (int): level of ``x``. Default: 0.
            to_level (int): target level (> from_level; negative counts from the end).
                Default: -1 (the coarsest).

        Returns:
            Tensor: (B, V_to, C).
        """
        start, stop = self._level(from_level), self._level(to_level)
        if stop <= start:
            raise ValueError(f'downsample needs to_level > from_level, got {from_level} -> '
                             f'{to_level}')
        return self._sparse_chain(x, [f'down_{k}' for k in range(start, stop)],
                                  self.num_vertices[start])

    def upsample(self, x: Tensor, from_level: int = -1, to_level: int = 0) -> Tensor:
        """Upsample vertex features.

        Args:
            x (Tensor): (B, V_from, C).
            from_level (int): level of ``x``. Default: -1 (the coarsest).
            to_level (int): target level (< from_level). Default: 0 (the full mesh).

        Returns:
            Tensor: (B, V_to, C).
        """
        start, stop = self._level(from_level), self._level(to_level)
        if stop >= start:
            raise ValueError(f'upsample needs to_level < from_level, got {from_level} -> '
                             f'{to_level}')
        return self._sparse_chain(x, [f'up_{k}' for k in range(start - 1, stop - 1, -1)],
                                  self.num_vertices[start])

    def adjacency(self, level: int = -1) -> Tensor:
        """Row-normalised ``A + I`` of a level as a (V, V) float32 sparse COO tensor."""
        matrix = row_normalized_adjacency(self._matrices['A'][self._level(level)])
        indices = torch.from_numpy(np.vstack([matrix.row, matrix.col]).astype(np.int64))
        values = torch.from_numpy(matrix.data).float()
        return torch.sparse_coo_tensor(indices, values, matrix.shape,
                                       check_invariants=True).coalesce().to(self._device)

    def faces(self, level: int = 0) -> np.ndarray:
        """(F, 3) int64 triangles of a level."""
        return self._matrices['F'][self._level(level)].copy()

    def edges(self, level: int = 0) -> np.ndarray:
        """(E, 2) int64 undirected edges ``i < j`` of a level's adjacency, row-major sorted."""
        upper = sp.triu(self._matrices['A'][self._level(level)], k=1).tocsr()
        upper.sort_indices()
        coo = upper.tocoo()
        return np.stack([coo.row, coo.col], axis=1).astype(np.int64)

    def decoder_attention_mask(self, num_joints: int = 14, level: int = -1) -> Tensor:
        """Self-attention mask over [joint tokens; vertex tokens] (True = blocked).

        Joint rows block nothing; vertex rows see every joint and, among vertices, only
        one-hop neighbours and themselves.

        Returns:
            Tensor: (num_joints + V, num_joints + V) bool.
        """
        adjacency = sp.csr_matrix(self._matrices['A'][self._level(level)])
        num_vertices = adjacency.shape[0]
        visible = (adjacency + sp.identity(num_vertices, format='csr')).toarray() != 0
        size = num_joints + num_vertices
        mask = torch.zeros((size, size), dtype=torch.bool)
        mask[num_joints:, num_joints:] = torch.from_numpy(~visible)
        return mask.to(self._device)

    def save(self, path: str, overwrite: bool = False) -> str:
        """Write the pickle-free layout atomically.

        Args:
            path (str): destination ``.npz`` (written as given).
            overwrite (bool): replace an existing file. Default: False.

        Returns:
            str: ``path``.
        """
        arrays = {'format': np.array(FORMAT_TAG), 'num_levels': np.array(self.num_levels)}
        for k in range(self.num_levels):
            arrays.update(_sparse_to_arrays(f'adjacency_{k}', self._matrices['A'][k]))
            arrays[f'faces_{k}'] = self._matrices['F'][k].astype(np.int64)
        for k in range(self.num_levels - 1):
            arrays.update(_sparse_to_arrays(f'up_{k}', self._matrices['U'][k]))
            arrays.update(_sparse_to_arrays(f'down_{k}', self._matrices['D'][k]))
        return save_npz_atomic(path, arrays, overwrite)
