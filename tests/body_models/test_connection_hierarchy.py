"""Connection hierarchies for any mesh: the MeshConvolution format, the neighbourhoods they
promise, and a Mesh-VQ-VAE built on the synthetic body with them."""
from pathlib import Path

import numpy as np
import pytest
import torch

from mmpose.registry import MODELS
from postometro_mm.body_models.connection_hierarchy import (build_connection_hierarchy,
                                                            mesh_graph,
                                                            write_connection_hierarchy)
from postometro_mm.models.layers.mesh_convolution import read_connection_file

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def hierarchy(synthetic_body_model, tmp_path_factory):
    faces = synthetic_body_model['faces']
    counts = (synthetic_body_model['num_vertices'][0], 300, 80, 20)
    out = tmp_path_factory.mktemp('connections')
    return faces, counts, out, write_connection_hierarchy(faces, counts, str(out))


def _rows(path, in_vertices):
    ids, counts, _ = read_connection_file(path, in_vertices)
    data = np.load(path)
    return [list(zip(ids[r, :counts[r]], data[r, 2:2 + 2 * counts[r]:2]))
            for r in range(len(ids))]


def test_files_follow_the_format_and_promise(hierarchy):
    faces, counts, _, paths = hierarchy
    assert set(paths) == {f'_{k}{i}' for k in ('pool', 'unpool') for i in range(7)}
    graph = mesh_graph(faces, counts[0])
    conv = _rows(paths['_pool0'], counts[0])
    assert all(row[0] == (v, 0) and sorted(i for i, _ in row[1:]) == graph[v]
               for v, row in enumerate(conv))
    # _unpool0 lists the same neighbourhoods in another order
    assert [sorted(r) for r in _rows(paths['_unpool0'], counts[0])] == [sorted(r) for r in conv]
    for level in range(3):
        fine, coarse = counts[level], counts[level + 1]
        pool = _rows(paths[f'_pool{2 * level + 1}'], fine)
        unpool = _rows(paths[f'_unpool{2 * level + 1}'], coarse)
        assert len(pool) == coarse and len(unpool) == fine
        # every fine vertex is in one region (hop distance >= 0 entries of its kept vertex)
        owner = {}
        for kept, row in enumerate(pool):
            assert row[0][1] == 0  # the kept vertex itself comes first
            for vertex, _ in row:
                if unpool[vertex][0][0] == kept:
                    owner.setdefault(vertex, kept)
        assert len(owner) == fine
        # the unpooling reads a fine vertex's own region first
        assert all(row[0][1] == 0 for row in unpool)


def test_bad_requests_are_refused(synthetic_body_model, tmp_path):
    faces = synthetic_body_model['faces']
    n = synthetic_body_model['num_vertices'][0]
    with pytest.raises(ValueError, match='decrease strictly'):
        build_connection_hierarchy(faces, (n, n))
    with pytest.raises(ValueError, match='every one of the'):
        build_connection_hierarchy(faces, (n + 1, 10))
    write_connection_hierarchy(faces, (n, 50), str(tmp_path))
    with pytest.raises(FileExistsError):
        write_connection_hierarchy(faces, (n, 50), str(tmp_path))


def test_a_mesh_vqvae_on_the_synthetic_body(hierarchy, synthetic_body_model):
    from mmengine.config import Config
    _, counts, out, _ = hierarchy
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'models' / 'mesh_vqvae_medium.py'))
    cfg.model.update(connection_dir=str(out), num_vertices=counts[0], num_codes=32)
    model = MODELS.build(cfg.model).eval()
    meshes = torch.randn(32, counts[0], 3) * 0.2
    indices = model.encode(meshes)
    assert indices.shape == (32, 20)
    with torch.no_grad():
        out = model(meshes)
        assert out.shape == (32, counts[0], 3)
        # batches of 1, 3 and 32 give each mesh the same tokens and reconstruction
        for size in (1, 3):
            chunks = torch.split(meshes, size)
            assert torch.equal(torch.cat([model.encode(c) for c in chunks]), indices)
            torch.testing.assert_close(torch.cat([model(c) for c in chunks]), out, rtol=0,
                                       atol=1e-6)
    # every table moves with the module (no device is named in the code)
    moved = model.to(torch.device('meta'))
    assert {t.device.type for t in [*moved.parameters(), *moved.buffers()]} == {'meta'}


def test_command_line_tool(synthetic_body_model, tmp_path, run_script):
    tool = REPO / 'tools' / 'misc' / 'mesh_connection_hierarchy.py'
    n = synthetic_body_model['num_vertices'][0]
    smpl = synthetic_body_model['smpl_paths']['neutral']
    status, _, out = run_script(tool, smpl, tmp_path / 'c', '--num-vertices', n, 100, 25)
    assert status == 0 and 'wrote 10 connection files' in out
    status, message, _ = run_script(tool, smpl, tmp_path / 'd', '--num-vertices', n + 5, 10)
    assert status == 1 and f'start with the mesh\'s {n} vertices' in message
