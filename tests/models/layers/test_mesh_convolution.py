"""MeshConv against a per-vertex loop of the layer's formulas, the MeshConvolution connection
files (format checks, the real files' sizes) and the reference Mesh-VQ-VAE parameter layout."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from postometro_mm.models.layers.mesh_convolution import (ConnectionFileError, MeshConv,
                                                          read_connection_file)


def _write_connections(path: Path, neighbors, in_vertices: int, max_neighbors: int) -> str:
    """A connection file in the MeshConvolution format: rows [N, id, d, ..., in, -1, ...]."""
    rows = []
    for ids in neighbors:
        row = [len(ids)]
        for k in range(max_neighbors):
            row += [ids[k], 1] if k < len(ids) else [in_vertices, -1]
        rows.append(row)
    np.save(path, np.array(rows, dtype=np.int32))
    return str(path)


#: 5 input vertices -> 4 output vertices, up to 3 neighbours (two rows padded)
POOL = ([0, 1, 2], [2, 3], [3, 4, 0], [4])
#: 5 -> 5 (a stride-1 layer: each vertex and its ring)
RING = ([0, 1, 4], [1, 0, 2], [2, 1, 3], [3, 2], [4, 3, 0])


def _loop_reference(layer: MeshConv, x: torch.Tensor, neighbors) -> torch.Tensor:
    """The layer's output computed vertex by vertex from its formulas (float64)."""
    x = x.double()
    cin, cout = layer.in_channels, layer.out_channels
    out = torch.zeros(x.shape[0], len(neighbors), cout, dtype=torch.float64)
    r = layer.residual_rate
    for p, ids in enumerate(neighbors):
        if r < 1:
            conv = layer.bias.double().clone().expand(x.shape[0], cout).clone()
            for m, i in enumerate(ids):
                kernel = sum(layer.w_weights[p, m, k].double()
                             * layer.weights[k].double().view(cout, cin)
                             for k in range(layer.num_bases))
                conv = conv + x[:, i] @ kernel.t()
            if layer.activation:
                conv = F.elu(conv)
            out[:, p] += conv * math.sqrt(1 - r)
        if r > 0:
            if layer.in_vertices == layer.out_vertices:
                res = x[:, p]
            else:
                weights = layer.p_neighbors[p, :len(ids)].double().abs()
                weights = weights / (weights.sum() + 1e-8)
                res = sum(w * x[:, i] for w, i in zip(weights, ids))
            if cin != cout:
                res = res @ layer.weight_res.double().t()
            out[:, p] += res * math.sqrt(r)
    return out


@pytest.mark.parametrize('neighbors, cin, cout, rate, activation', [
    (RING, 3, 4, 0.0, True),     # convolution with ELU
    (RING, 4, 3, 0.0, False),    # the last decoder layer: no ELU
    (POOL, 6, 6, 1.0, True),     # learned pooling, 5 -> 4 vertices
    (RING, 3, 5, 1.0, True),     # identity residual with a channel projection
    (POOL, 3, 5, 0.3, True),     # both paths mixed
])
def test_layer_matches_a_loop_over_its_formulas(tmp_path, neighbors, cin, cout, rate,
                                                activation):
    path = _write_connections(tmp_path / 'c.npy', neighbors, 5, 3)
    torch.manual_seed(0)
    layer = MeshConv(cin, cout, path, num_bases=4, residual_rate=rate, activation=activation)
    if rate < 1:
        torch.nn.init.normal_(layer.bias)
    x = torch.randn(3, 5, cin)
    out = layer(x)
    assert out.shape == (3, len(neighbors), cout)
    torch.testing.assert_close(out.double(), _loop_reference(layer, x, neighbors), rtol=1e-5,
                               atol=1e-5)
    # any batch size, each sample on its own
    torch.testing.assert_close(torch.cat([layer(x[i:i + 1]) for i in range(3)]), out)


def test_basis_first_evaluation_equals_the_materialised_kernels(tmp_path):
    layer = MeshConv(3, 4, _write_connections(tmp_path / 'c.npy', POOL, 5, 3), num_bases=4,
                     activation=False)
    x = torch.randn(2, 5, 3)
    padded = torch.cat([x, torch.zeros(2, 1, 3)], dim=1)[:, layer.neighbor_ids]
    expected = torch.einsum('pmoi,bpmi->bpo', layer.kernels(), padded) + layer.bias
    torch.testing.assert_close(layer(x), expected)
    assert torch.all(layer.kernels()[1, 2] == 0)  # a padding slot has no kernel


def test_neighbour_tables_are_buffers_outside_the_state_dict(tmp_path):
    layer = MeshConv(3, 3, _write_connections(tmp_path / 'c.npy', POOL, 5, 3),
                     residual_rate=1.0)
    assert set(layer.state_dict()) == {'p_neighbors'}
    assert {name for name, _ in layer.named_buffers()} == {'neighbor_ids', 'neighbor_mask'}
    double = layer.double()
    assert double.neighbor_mask.dtype == torch.float64 and double.neighbor_ids.dtype == torch.int64
    assert double(torch.randn(2, 5, 3, dtype=torch.float64)).dtype == torch.float64
    with pytest.raises(ValueError, match=r'expects input \(B, 5, 3\)'):
        layer(torch.randn(2, 4, 3))


def test_bad_connection_files_are_named(tmp_path):
    with pytest.raises(ConnectionFileError, match='missing.npy.*does not exist'):
        read_connection_file(str(tmp_path / 'missing.npy'))
    np.save(tmp_path / 'even.npy', np.zeros((3, 4), np.int32))
    with pytest.raises(ConnectionFileError, match=r'even.npy: expected an \(out_vertices'):
        read_connection_file(str(tmp_path / 'even.npy'))
    np.save(tmp_path / 'floats.npy', np.zeros((3, 5), np.float32))
    with pytest.raises(ConnectionFileError, match='floats.npy: expected integers'):
        read_connection_file(str(tmp_path / 'floats.npy'))
    path = _write_connections(tmp_path / 'c.npy', POOL, 5, 3)
    with pytest.raises(ConnectionFileError, match='padding slots must all name the input size'):
        read_connection_file(path, in_vertices=6)
    full = _write_connections(tmp_path / 'full.npy', ([0, 1], [1, 0]), 2, 2)
    with pytest.raises(ConnectionFileError, match='every row is full.*in_vertices'):
        read_connection_file(full)
    assert read_connection_file(full, in_vertices=2)[2] == 2
    data = np.load(path)
    data[0, 3] = 9  # a neighbour id beyond the input
    np.save(tmp_path / 'far.npy', data)
    with pytest.raises(ConnectionFileError, match=r'far.npy: neighbour ids must lie in \[0, 5\)'):
        read_connection_file(str(tmp_path / 'far.npy'))


#: The reference `config_medium` (VQ-HPS): (file, Cin, Cout, residual rate, ELU)
MEDIUM = [('_pool0', 3, 32, 0, True), ('_pool1', 32, 32, 1, True),
          ('_pool2', 32, 64, 0, True), ('_pool3', 64, 64, 1, True),
          ('_pool4', 64, 128, 0, True), ('_pool5', 128, 128, 1, True),
          ('_pool6', 128, 9, 0, True), ('_unpool6', 9, 128, 0, True),
          ('_unpool5', 128, 128, 1, True), ('_unpool4', 128, 64, 0, True),
          ('_unpool3', 64, 64, 1, True), ('_unpool2', 64, 32, 0, True),
          ('_unpool1', 32, 32, 1, True), ('_unpool0', 32, 3, 0, False)]


def test_released_connection_files_build_the_reference_layout(reference_data_dir):
    folder = reference_data_dir / 'mesh_vqvae_connections'
    sizes = {}
    for level in range(8):
        for kind in ('pool', 'unpool'):
            ids, counts, in_vertices = read_connection_file(
                str(folder / f'_{kind}{level}.npy'),
                in_vertices={'pool': [6890, 6890, 1925, 1925, 400, 400, 54, 54],
                             'unpool': [6890, 1925, 1925, 400, 400, 54, 54, 7]}[kind][level])
            sizes[f'_{kind}{level}'] = (in_vertices, ids.shape[0], ids.shape[1])
    assert sizes['_pool1'] == (6890, 1925, 32) and sizes['_pool7'] == (54, 7, 33)
    assert sizes['_unpool1'] == (1925, 6890, 11) and sizes['_unpool7'] == (7, 54, 4)

    vertices = 6890
    layers = []
    for name, cin, cout, rate, activation in MEDIUM:
        layers.append(MeshConv(cin, cout, str(folder / f'{name}.npy'), in_vertices=vertices,
                               num_bases=9, residual_rate=rate, activation=activation))
        vertices = layers[-1].out_vertices
    assert [layer.out_vertices for layer in layers] == [6890, 1925, 1925, 400, 400, 54, 54, 54,
                                                       400, 400, 1925, 1925, 6890, 6890]
    ours = {f'{name}{index}': tuple(p.shape)
            for index, layer in enumerate(layers) for name, p in layer.named_parameters()}
    reference = {}
    for line in (reference_data_dir / 'official_state_dicts' /
                 'mesh_vqvae_medium.txt').read_text().splitlines():
        key, shape = line.split()
        if key.startswith('encoder.model.'):
            reference[key[len('encoder.model.'):]] = tuple(int(s) for s in shape.split('x'))
    assert ours == reference
    x = torch.randn(2, 6890, 3)
    for layer in layers[:7]:
        x = layer(x)
    assert x.shape == (2, 54, 9)  # the 54 x 9 latent
