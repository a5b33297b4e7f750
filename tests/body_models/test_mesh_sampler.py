import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from postometro_mm.body_models import MeshSampler, read_mesh_sampler_file
from crafted_pickles import RunsCode

CONVERTER = os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'model_converters',
                         'mesh_sampler_to_npz.py')


@pytest.fixture(scope='module')
def real_sampler(reference_data_dir):
    return MeshSampler(reference_data_dir / 'smpl_topology' / 'mesh_downsampling.npz',
                       allow_pickle=True)


def test_real_topology_sizes(real_sampler):
    assert real_sampler.num_vertices == (6890, 1723, 431)
    assert [real_sampler.faces(k).shape[0] for k in range(3)] == [13776, 3442, 858]
    assert real_sampler.faces(0).dtype == np.int64


def test_adjacency_reproduces_reference_431_matrix_exactly(real_sampler, reference_data_dir):
    folder = reference_data_dir / 'smpl_topology'
    indices = torch.load(folder / 'smpl_431_adjmat_indices.pt')
    values = torch.load(folder / 'smpl_431_adjmat_values.pt')
    size = torch.load(folder / 'smpl_431_adjmat_size.pt')
    adjacency = real_sampler.adjacency(2)
    assert adjacency.is_sparse and adjacency.dtype == torch.float32
    assert tuple(adjacency.shape) == tuple(size)
    assert torch.equal(adjacency.indices(), indices)
    assert torch.equal(adjacency.values(), values)
    assert torch.equal(real_sampler.adjacency(-1).to_dense(), adjacency.to_dense())


def test_decoder_attention_mask_blocks_182756_entries(real_sampler, reference_data_dir):
    folder = reference_data_dir / 'smpl_topology'
    mask = real_sampler.decoder_attention_mask(num_joints=14)
    assert mask.shape == (445, 445) and mask.dtype == torch.bool
    assert int(mask.sum()) == 182756
    # FastMETRO's construction from the reference adjacency files
    dense = torch.sparse_coo_tensor(torch.load(folder / 'smpl_431_adjmat_indices.pt'),
                                    torch.load(folder / 'smpl_431_adjmat_values.pt'),
                                    torch.load(folder / 'smpl_431_adjmat_size.pt'),
                                    check_invariants=True).to_dense()
    expected = torch.zeros(445, 445, dtype=torch.bool)
    expected[14:, 14:] = dense == 0
    assert torch.equal(mask, expected)
    assert not mask[:14].any() and not mask[:, :14].any()


def test_edges_of_middle_level_match_reference_edge_list(real_sampler, reference_data_dir):
    reference = np.load(reference_data_dir / 'smpl_topology' / 'smpl_1723_edges.npy')
    edges = real_sampler.edges(1)
    assert edges.dtype == np.int64 and edges.shape == (5163, 2)
    assert set(map(tuple, np.sort(reference, axis=1))) == set(map(tuple, edges))


@pytest.mark.parametrize('fixture', ['real', 'synthetic'])
def test_up_after_down_keeps_the_selected_vertices(fixture, request):
    if fixture == 'real':
        sampler = request.getfixturevalue('real_sampler')
    else:
        sampler = MeshSampler(request.getfixturevalue('synthetic_body_model')['mesh_sampler'])
    matrices = read_mesh_sampler_file(sampler.filename, allow_pickle=True)
    rng = np.random.default_rng(0)
    for k in range(2):
        down, up = matrices['D'][k].tocsr(), matrices['U'][k]
        # D selects one vertex per coarse vertex with weight 1 ...
        assert np.all(np.diff(down.indptr) == 1) and np.all(down.data == 1)
        selected = down.indices
        # ... and U copies it back: U(D(x)) equals x at the selected vertices, D U = I
        x = rng.normal(size=(down.shape[1], 3))
        np.testing.assert_allclose((up @ (down @ x))[selected], x[selected], atol=1e-9)
        np.testing.assert_allclose((down @ up).toarray(), np.eye(down.shape[0]), atol=1e-9)
    # the same through the torch path (float32), over two levels at once
    x = torch.randn(2, sampler.num_vertices[0], 3, dtype=torch.float64)
    coarse = sampler.downsample(x)
    assert coarse.shape == (2, sampler.num_vertices[2], 3) and coarse.dtype == torch.float64
    torch.testing.assert_close(sampler.downsample(sampler.upsample(coarse)), coarse,
                               atol=1e-5, rtol=0)


def test_down_and_upsampling_match_scipy(real_sampler):
    matrices = read_mesh_sampler_file(real_sampler.filename, allow_pickle=True)
    x = torch.randn(3, 1723, 5)
    down = real_sampler.downsample(x, from_level=1, to_level=2)
    expected = np.stack([matrices['D'][1] @ xi for xi in x.numpy()])
    np.testing.assert_allclose(down.numpy(), expected, atol=1e-5)
    up = real_sampler.upsample(x, from_level=1, to_level=0)
    expected = np.stack([matrices['U'][0] @ xi for xi in x.numpy()])
    np.testing.assert_allclose(up.numpy(), expected, atol=1e-5)
    x.requires_grad_(True)
    real_sampler.upsample(x, 1, 0).sum().backward()
    np.testing.assert_allclose(x.grad[0].numpy(),
                               np.repeat(np.asarray(matrices['U'][0].sum(0)).T, 5, 1),
                               atol=1e-5)
    with pytest.raises(ValueError, match='to_level > from_level'):
        real_sampler.downsample(x, from_level=2, to_level=1)
    with pytest.raises(ValueError, match=r'\(B, 6890, C\)'):
        real_sampler.downsample(x)


def test_matrices_are_non_persistent_buffers(real_sampler):
    assert real_sampler.state_dict() == {}
    names = {name for name, _ in real_sampler.named_buffers()}
    matrices = {'down_0', 'down_1', 'up_0', 'up_1'}
    assert names == matrices | {f'{m}_{t}' for m in matrices for t in ('index', 'weight')}
    moved = real_sampler.to(torch.float32)  # .to() keeps working on sparse buffers
    assert moved.down_0.is_sparse


def test_traced_sampling_uses_gather_tables_with_the_same_result(real_sampler):
    """ONNX has no sparse tensors: under tracing the rows' gather tables replace the sparse
    products, with the same numbers (float32 sums in another order)."""
    x = torch.randn(2, 431, 3)
    eager = real_sampler.upsample(x, from_level=2, to_level=0)
    traced = torch.jit.trace(lambda v: real_sampler.upsample(v, from_level=2, to_level=0), x)
    torch.testing.assert_close(traced(x), eager, rtol=0, atol=1e-6)
    fine = torch.randn(3, 6890, 3)
    traced = torch.jit.trace(lambda v: real_sampler.downsample(v), fine)
    torch.testing.assert_close(traced(fine), real_sampler.downsample(fine), rtol=0, atol=1e-6)
    dense = real_sampler.up_0.to_dense()
    index, weight = real_sampler.up_0_index, real_sampler.up_0_weight
    rebuilt = torch.zeros_like(dense).scatter_add_(1, index, weight)
    assert torch.equal(rebuilt, dense)


def test_pickle_free_round_trip(tmp_path, real_sampler):
    path = tmp_path / 'smpl_sampler.npz'
    real_sampler.save(path)
    with np.load(path, allow_pickle=False) as archive:
        assert all(archive[k].dtype != object for k in archive.files)
    loaded = MeshSampler(path)
    assert loaded.num_vertices == real_sampler.num_vertices
    original = read_mesh_sampler_file(real_sampler.filename, allow_pickle=True)
    again = read_mesh_sampler_file(path)
    for key in ('A', 'U', 'D'):
        for a, b in zip(original[key], again[key]):
            assert (a != b).nnz == 0 and a.shape == b.shape
    for a, b in zip(original['F'], again['F']):
        np.testing.assert_array_equal(a, b)
    assert torch.equal(loaded.decoder_attention_mask(), real_sampler.decoder_attention_mask())
    with pytest.raises(FileExistsError):
        real_sampler.save(path)


def test_legacy_file_needs_allow_pickle(reference_data_dir):
    path = reference_data_dir / 'smpl_topology' / 'mesh_downsampling.npz'
    with pytest.raises(ValueError, match='allow_pickle=True'):
        MeshSampler(path)


def object_array(*items):
    array = np.empty(len(items), dtype=object)
    array[:] = list(items)
    return array


def _legacy_with_member(tmp_path, source, name, member):
    """Copy a legacy sampler, replacing member ``name`` by a pickled object array."""
    path = tmp_path / 'mesh_downsampling.npz'
    buffer = io.BytesIO()
    np.save(buffer, object_array(member), allow_pickle=True)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, 'w') as dst:
        for item in src.namelist():
            if item != f'{name}.npy':
                dst.writestr(item, src.read(item))
        dst.writestr(f'{name}.npy', buffer.getvalue())
    return path


def test_member_m_is_never_read_and_other_members_are_restricted(tmp_path,
                                                                 synthetic_body_model):
    marker = tmp_path / 'executed'
    source = synthetic_body_model['mesh_downsampling']
    path = _legacy_with_member(tmp_path, source, 'M', RunsCode(marker))
    assert MeshSampler(path, allow_pickle=True).num_vertices == \
        synthetic_body_model['num_vertices']
    assert not marker.exists()
    path = _legacy_with_member(tmp_path, source, 'U', RunsCode(marker))
    with pytest.raises(pickle.UnpicklingError, match='posix.system|os.system|nt.system'):
        MeshSampler(path, allow_pickle=True)
    assert not marker.exists()


def test_synthetic_sampler_files_agree(synthetic_body_model):
    legacy = MeshSampler(synthetic_body_model['mesh_downsampling'], allow_pickle=True)
    pickle_free = MeshSampler(synthetic_body_model['mesh_sampler'])
    assert legacy.num_vertices == pickle_free.num_vertices == synthetic_body_model[
        'num_vertices']
    assert 50 <= legacy.num_vertices[2] <= 150 and 500 <= legacy.num_vertices[0] <= 1500
    for level in range(3):
        assert torch.equal(legacy.adjacency(level).to_dense(),
                           pickle_free.adjacency(level).to_dense())
        np.testing.assert_array_equal(legacy.faces(level), pickle_free.faces(level))
    np.testing.assert_array_equal(legacy.faces(0), synthetic_body_model['faces'])


def test_converter_tool(tmp_path, run_script, synthetic_body_model):
    out = tmp_path / 'sampler.npz'
    assert run_script(CONVERTER, synthetic_body_model['mesh_downsampling'], out)[0] == 0
    converted = read_mesh_sampler_file(out)
    reference = read_mesh_sampler_file(synthetic_body_model['mesh_sampler'])
    for key in ('A', 'U', 'D'):
        assert all((a != b).nnz == 0 for a, b in zip(converted[key], reference[key]))
    status, message, _ = run_script(CONVERTER, synthetic_body_model['mesh_downsampling'], out)
    assert status == 1 and 'sampler.npz' in message and '--force' in message
    assert run_script(CONVERTER, synthetic_body_model['mesh_downsampling'], out,
                      '--force')[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ['sampler.npz']


def test_bad_files_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match='METRO'):
        MeshSampler(tmp_path / 'missing.npz')
    path = tmp_path / 'other.npz'
    np.savez(path, x=np.zeros(3))
    with pytest.raises(ValueError, match='neither'):
        MeshSampler(path)
    bad = tmp_path / 'bad_shapes.npz'
    np.savez(bad, A=object_array(sp.csc_matrix(np.eye(3))), U=object_array(),
             D=object_array(), F=object_array(np.array([[0, 1, 5]])))
    with pytest.raises(ValueError, match=r'F\[0\]'):
        MeshSampler(bad, allow_pickle=True)
