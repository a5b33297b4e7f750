"""Mesh-convolution connection files (the MeshConvolution ``.npy`` format read by
:func:`postometro_mm.models.layers.mesh_convolution.read_connection_file`) for any triangle
mesh, so that a Mesh-VQ-VAE can be built on any body topology (e.g. the synthetic body model of
the tests and the quickstart).

Levels are chosen on the mesh graph (it may have several connected components): level 0 is
the mesh; level ``l + 1`` keeps ``num_vertices[l + 1]`` vertices of level ``l`` picked by
farthest-point sampling in hop distance; every level-``l`` vertex belongs to the region of its nearest kept vertex
(multi-source breadth-first search), and two kept vertices are neighbours at level ``l + 1``
when their regions touch. Per level ``l`` the files are, with the release's names:

* ``_pool{2l}`` and ``_unpool{2l}``: stride-1 convolution at level ``l`` (each vertex with
  ``d = 0``, then its graph neighbours with ``d = 1``; the two files list the neighbours in
  opposite orders, as the release's do);
* ``_pool{2l+1}``: level ``l`` -> ``l + 1``: each kept vertex gathers its region and the
  region's one-ring (hop distance from the kept vertex as ``d``);
* ``_unpool{2l+1}``: level ``l + 1`` -> ``l``: each level-``l`` vertex gathers the kept vertex
  of its region (``d = 0``) and those of the regions its neighbours belong to (``d = 1``).
"""
import os
import os.path as osp
from collections import deque
from typing import Dict, List, Sequence

import numpy as np

from .npz_io import atomic_write_all


def mesh_graph(faces: np.ndarray, num_vertices: int) -> List[List[int]]:
    """Sorted neighbour lists of a triangle mesh's vertices ((F, 3) int faces)."""
    neighbors = [set() for _ in range(num_vertices)]
    for a, b, c in np.asarray(faces, dtype=np.int64):
        neighbors[a].update((b, c))
        neighbors[b].update((a, c))
        neighbors[c].update((a, b))
    return [sorted(n) for n in neighbors]


def _bfs(graph: Sequence[Sequence[int]], sources: Sequence[int]) -> tuple:
    """Hop distance to the nearest source and that source's position, for every vertex."""
    distance = np.full(len(graph), -1, dtype=np.int64)
    owner = np.full(len(graph), -1, dtype=np.int64)
    queue = deque()
    for position, source in enumerate(sources):
        distance[source], owner[source] = 0, position
        queue.append(source)
    while queue:
        vertex = queue.popleft()
        for neighbor in graph[vertex]:
            if distance[neighbor] < 0:
                distance[neighbor] = distance[vertex] + 1
                owner[neighbor] = owner[vertex]
                queue.append(neighbor)
    return distance, owner


def farthest_point_sampling(graph: Sequence[Sequence[int]], count: int) -> np.ndarray:
    """``count`` vertices spread over a graph: start at vertex 0, then repeatedly the vertex
    farthest (in hops, lowest index on ties) from those picked; a vertex no picked one reaches
    counts as farthest, so every connected component (e.g. the separate parts of a mesh) gets
    one first.

    Raises:
        ValueError: fewer vertices asked for than the graph has components.
    """
    unreachable = len(graph) + 1
    picked = [0]
    distance = _bfs(graph, picked)[0]
    distance[distance < 0] = unreachable
    while len(picked) < count:
        far = int(np.argmax(distance))
        picked.append(far)
        reached = _bfs(graph, [far])[0]
        distance = np.minimum(distance, np.where(reached < 0, unreachable, reached))
    if distance.max() == unreachable:
        raise ValueError(f'{count} vertices cannot cover the mesh graph: it has more connected '
                         'components')
    return np.array(picked, dtype=np.int64)


def _connection_array(rows: List[List[tuple]], in_vertices: int) -> np.ndarray:
    """Rows of (id, d) pairs -> int32 (out, 1 + 2M), padded with (in_vertices, -1)."""
    width = max(len(r) for r in rows)
    data = np.empty((len(rows), 1 + 2 * width), dtype=np.int32)
    data[:, 1::2], data[:, 2::2] = in_vertices, -1
    for index, row in enumerate(rows):
        data[index, 0] = len(row)
        for slot, (vertex, hops) in enumerate(row):
            data[index, 1 + 2 * slot], data[index, 2 + 2 * slot] = vertex, hops
    return data


def build_connection_hierarchy(faces: np.ndarray, num_vertices: Sequence[int]
                               ) -> Dict[str, np.ndarray]:
    """Connection arrays of a pooling hierarchy (see the module doc).

    Args:
        faces: (F, 3) triangles of the level-0 mesh.
        num_vertices: vertex counts per level, strictly decreasing, the first equal to the
            mesh's (e.g. ``(6890, 1925, 400, 54)``).

    Returns:
        dict: file stem (``_pool0`` …) -> int32 array in the MeshConvolution format.
    """
    counts = [int(n) for n in num_vertices]
    if len(counts) < 2 or any(b >= a or b < 1 for a, b in zip(counts, counts[1:])):
        raise ValueError(f'num_vertices must decrease strictly from the mesh size, got {counts}')
    graph = mesh_graph(faces, counts[0])
    if max((max(n) for n in graph if n), default=-1) >= counts[0] or any(not n for n in graph):
        raise ValueError(f'faces must use every one of the {counts[0]} vertices')
    files: Dict[str, np.ndarray] = {}
    for level, coarse_count in enumerate(counts[1:] + [None]):
        size = len(graph)
        files[f'_pool{2 * level}'] = _connection_array(
            [[(v, 0)] + [(n, 1) for n in graph[v]] for v in range(size)], size)
        files[f'_unpool{2 * level}'] = _connection_array(
            [[(v, 0)] + [(n, 1) for n in reversed(graph[v])] for v in range(size)], size)
        if coarse_count is None:
            break
        kept = farthest_point_sampling(graph, coarse_count)
        hops, owner = _bfs(graph, kept)
        regions = [[] for _ in kept]
        for vertex in np.argsort(hops, kind='stable'):
            regions[owner[vertex]].append(int(vertex))
        pool_rows = []
        for members in regions:
            ring = sorted({n for v in members for n in graph[v]} - set(members))
            pool_rows.append([(v, int(hops[v])) for v in members] + [(n, int(hops[n]) + 1)
                                                                     for n in ring])
        files[f'_pool{2 * level + 1}'] = _connection_array(pool_rows, size)
        unpool_rows = []
        for vertex in range(size):
            touching = sorted({int(owner[n]) for n in graph[vertex]} - {int(owner[vertex])})
            unpool_rows.append([(int(owner[vertex]), 0)] + [(r, 1) for r in touching])
        files[f'_unpool{2 * level + 1}'] = _connection_array(unpool_rows, coarse_count)
        coarse = [set() for _ in kept]
        for vertex in range(size):
            for neighbor in graph[vertex]:
                if owner[neighbor] != owner[vertex]:
                    coarse[owner[vertex]].add(int(owner[neighbor]))
        graph = [sorted(n) for n in coarse]
    return files


def write_connection_hierarchy(faces: np.ndarray, num_vertices: Sequence[int], out_dir: str,
                               overwrite: bool = False) -> Dict[str, str]:
    """Build :func:`build_connection_hierarchy` and write its files into ``out_dir``, all or
    none; returns file stem -> path."""
    files = build_connection_hierarchy(faces, num_vertices)
    os.makedirs(out_dir, exist_ok=True)
    paths = {stem: osp.join(out_dir, f'{stem}.npy') for stem in files}
    atomic_write_all({paths[stem]: (lambda f, a=array: np.save(f, a))
                      for stem, array in files.items()}, overwrite)
    return paths
