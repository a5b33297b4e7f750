import numpy as np
import pytest
import scipy.sparse as sp

from postometro_mm.body_models import (GENDERS, H36M17_FLIP_PERM, SMPL24_FLIP_PERM,
                                       SMPL_EXTRA14_FLIP_PERM, load_smpl_model_file,
                                       read_mesh_sampler_file, write_synthetic_body_model)
from postometro_mm.body_models.synthetic_geometry import build_tube_body, signed_volume

MIRROR = np.array([-1.0, 1.0, 1.0])


def directed_edges(faces):
    return np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])


def test_every_level_is_closed_with_outward_winding(synthetic_body_model):
    matrices = read_mesh_sampler_file(synthetic_body_model['mesh_sampler'])
    template = load_smpl_model_file(synthetic_body_model['smpl_paths']['neutral'])['v_template']
    vertices = template
    for level, faces in enumerate(matrices['F']):
        edges = set(map(tuple, directed_edges(faces)))
        assert len(edges) == 3 * len(faces)  # no directed edge twice: consistent winding
        assert all((b, a) in edges for a, b in edges)  # every edge has its twin: closed
        assert signed_volume(vertices, faces) > 0.01  # outward; a body is ~0.06 m^3
        adjacency = matrices['A'][level]
        assert adjacency.nnz == len(edges)
        if level < 2:  # coarse vertices are exact subsets (D is a selection)
            vertices = matrices['D'][level] @ vertices


def test_model_arrays_are_mirror_symmetric(synthetic_body_model):
    mirror = synthetic_body_model['vertex_mirror_index']
    np.testing.assert_array_equal(mirror[mirror], np.arange(len(mirror)))
    extra = np.load(synthetic_body_model['j_regressor_extra'])
    h36m = np.load(synthetic_body_model['j_regressor_h36m'])
    np.testing.assert_array_equal(extra[SMPL_EXTRA14_FLIP_PERM][:, mirror], extra)
    np.testing.assert_array_equal(h36m[H36M17_FLIP_PERM][:, mirror], h36m)
    for gender in GENDERS:
        data = load_smpl_model_file(synthetic_body_model['smpl_npz_paths'][gender])
        np.testing.assert_array_equal(data['v_template'][mirror] * MIRROR, data['v_template'])
        np.testing.assert_array_equal(data['shapedirs'][mirror] * MIRROR[:, None],
                                      data['shapedirs'])
        np.testing.assert_array_equal(data['weights'][mirror][:, SMPL24_FLIP_PERM],
                                      data['weights'])
        regressor = data['J_regressor']
        np.testing.assert_array_equal(regressor[SMPL24_FLIP_PERM][:, mirror], regressor)
        np.testing.assert_array_equal(data['vert_sym_idxs'], mirror)


def test_model_contents_are_sane(synthetic_body_model):
    data = load_smpl_model_file(synthetic_body_model['smpl_paths']['neutral'])
    np.testing.assert_allclose(data['weights'].sum(1), 1.0)
    assert data['weights'].min() >= 0
    regressor = data['J_regressor'].toarray()
    np.testing.assert_allclose(regressor.sum(1), 1.0)
    np.testing.assert_allclose(regressor @ data['v_template'], data['J'], atol=1e-12)
    assert data['posedirs'].shape[2] == 207 and 0 < np.abs(data['posedirs']).max() < 0.02
    # each shape direction does something, and unit betas change the body by centimetres
    magnitude = np.abs(data['shapedirs']).max(axis=(0, 1))
    assert np.all(magnitude > 0.005) and np.all(magnitude < 0.2)
    templates = [load_smpl_model_file(synthetic_body_model['smpl_paths'][g])['v_template']
                 for g in GENDERS]
    assert np.abs(templates[1] - templates[2]).max() > 0.03


def test_generation_is_deterministic(tmp_path, synthetic_body_model):
    again = write_synthetic_body_model(tmp_path, seed=0)
    for gender in GENDERS:
        a = load_smpl_model_file(again['smpl_npz_paths'][gender])
        b = load_smpl_model_file(synthetic_body_model['smpl_npz_paths'][gender])
        for key in a:
            np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)
    other = write_synthetic_body_model(tmp_path / 'seed1', seed=1)
    posedirs = [load_smpl_model_file(info['smpl_npz_paths']['neutral'])['posedirs']
                for info in (other, synthetic_body_model)]
    assert not np.array_equal(*posedirs)


def test_num_vertices_selects_ring_resolution(tmp_path):
    info = write_synthetic_body_model(tmp_path, num_vertices=1700)
    assert info['num_vertices'] == (1690, 450, 130)
    with pytest.raises(ValueError, match='6890'):
        write_synthetic_body_model(tmp_path, num_vertices=1000, topology_dir=tmp_path)
    with pytest.raises(ValueError, match='multiple of 4'):
        build_tube_body('neutral', around=10)


def test_real_size_model_uses_smpl_topology(synthetic_body_model_real_size, reference_data_dir):
    info = synthetic_body_model_real_size
    assert info['num_vertices'] == (6890, 1723, 431)
    reference = read_mesh_sampler_file(
        reference_data_dir / 'smpl_topology' / 'mesh_downsampling.npz', allow_pickle=True)
    written = read_mesh_sampler_file(info['mesh_sampler'])
    for key in ('A', 'U', 'D'):
        assert all((a != b).nnz == 0 for a, b in zip(reference[key], written[key]))
    data = load_smpl_model_file(info['smpl_paths']['neutral'])
    np.testing.assert_array_equal(data['f'], reference['F'][0])
    assert sp.issparse(data['J_regressor']) and data['J_regressor'].shape == (24, 6890)
    np.testing.assert_array_equal(np.load(info['j_regressor_h36m']), np.load(
        reference_data_dir / 'smpl_topology' / 'J_regressor_h36m_correct.npy'))
    # procedural joints land near the designed ones (SMPL-like T-pose, within a few cm)
    designed = build_tube_body('neutral').rest_joints
    assert np.linalg.norm(info['rest_joints']['neutral'] - designed, axis=1).max() < 0.1
    assert info['vertex_mirror_index'] is None
