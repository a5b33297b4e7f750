"""OBJ / PLY writers and readers."""
import numpy as np
import pytest

from postometro_mm.apis import load_obj, load_ply, save_obj, save_ply


@pytest.fixture
def mesh():
    rng = np.random.default_rng(0)
    vertices = rng.normal(size=(50, 3)).astype(np.float32) * np.float32(1.7)
    faces = rng.integers(0, 50, size=(80, 3))
    return vertices, faces


def test_obj_round_trip_is_exact(mesh, tmp_path):
    vertices, faces = mesh
    path = save_obj(str(tmp_path / 'm.obj'), vertices, faces)
    loaded_v, loaded_f = load_obj(path)
    np.testing.assert_array_equal(loaded_v, vertices)
    np.testing.assert_array_equal(loaded_f, faces)
    lines = open(path).read().splitlines()
    assert sum(line.startswith('v ') for line in lines) == 50
    first_face = next(line for line in lines if line.startswith('f '))
    assert first_face.split()[1:] == [str(i + 1) for i in faces[0]]  # 1-based on disk


def test_ply_round_trip_with_colors(mesh, tmp_path):
    vertices, faces = mesh
    colors = np.tile([[10, 200, 255]], (50, 1))
    loaded_v, loaded_f, loaded_c = load_ply(save_ply(str(tmp_path / 'm.ply'), vertices, faces,
                                                     colors))
    np.testing.assert_array_equal(loaded_v, vertices)
    np.testing.assert_array_equal(loaded_f, faces)
    np.testing.assert_array_equal(loaded_c, colors)
    header = open(tmp_path / 'm.ply', 'rb').read(300)
    assert b'element vertex 50' in header and b'element face 80' in header
    assert load_ply(save_ply(str(tmp_path / 'n.ply'), vertices, faces))[2] is None


def test_obj_reader_accepts_common_face_syntax(tmp_path):
    path = tmp_path / 'hand_written.obj'
    path.write_text('o tri\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvn 0 0 1\nf 1/1/1 2//1 -1\n')
    vertices, faces = load_obj(str(path))
    assert vertices.shape == (3, 3)
    np.testing.assert_array_equal(faces, [[0, 1, 2]])


def test_bad_meshes_are_refused(tmp_path):
    with pytest.raises(ValueError, match='outside'):
        save_obj(str(tmp_path / 'x.obj'), np.zeros((3, 3)), [[0, 1, 3]])
    with pytest.raises(ValueError, match=r'\(V, 3\)'):
        save_ply(str(tmp_path / 'x.ply'), np.zeros((3, 2)), [[0, 1, 2]])
    (tmp_path / 'quad.obj').write_text('v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n')
    with pytest.raises(ValueError, match='quad.obj:5: only triangle'):
        load_obj(str(tmp_path / 'quad.obj'))
