import collections
import os
import pickle
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from crafted_pickles import RunsCode

from postometro_mm.body_models import (DisallowedPickleError, load_smpl_model_file,
                                       resolve_smpl_path, save_smpl_model_npz)

CONVERTER = os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'model_converters',
                         'smpl_pkl_to_npz.py')


def test_official_layout_pickle_loads_without_chumpy(synthetic_body_model):
    path = synthetic_body_model['smpl_paths']['neutral']
    raw = open(path, 'rb').read()
    assert b'chumpy.ch\nCh' in raw  # the file really names chumpy, like official SMPL files
    with pytest.raises(ModuleNotFoundError, match='chumpy'):
        pickle.loads(raw, encoding='latin1')
    data = load_smpl_model_file(path)
    assert 'chumpy' not in sys.modules
    assert isinstance(data['shapedirs'], np.ndarray) and data['shapedirs'].shape[1:] == (3, 10)
    assert sp.issparse(data['J_regressor']) and data['J_regressor'].shape[0] == 24
    assert data['f'].dtype == np.uint32 and data['bs_style'] == 'lbs'
    assert data['kintree_table'][0, 0] == 4294967295


class Ch:
    """Pickled under chumpy's name in the test below."""


def test_plain_ch_state_is_read_from_x(tmp_path):
    """A hand-written protocol-0 pickle of chumpy.ch.Ch (Python 2 style, copy_reg helpers)."""
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    obj = Ch()
    obj.__dict__.update({'x': x, '_dirty_vars': {'x'}, '_itr': None})
    payload = pickle.dumps({'value': obj}, protocol=0)
    payload = payload.replace(
        f'{Ch.__module__}\n{Ch.__qualname__}'.encode(), b'chumpy.ch\nCh')
    from postometro_mm.body_models.restricted_pickle import (ARRAY_GLOBALS, chumpy_resolvers,
                                                             restricted_load)
    path = tmp_path / 'ch.pkl'
    path.write_bytes(payload)
    with open(path, 'rb') as f:
        loaded = restricted_load(f, str(path), ARRAY_GLOBALS, chumpy_resolvers())
    np.testing.assert_array_equal(loaded['value'].array, x)
    assert loaded['value'].chumpy_class == 'chumpy.ch.Ch'


def test_unknown_class_is_refused_with_file_and_class(tmp_path, synthetic_body_model):
    data = load_smpl_model_file(synthetic_body_model['smpl_paths']['neutral'])
    data['extra'] = collections.OrderedDict(a=1)
    path = tmp_path / 'SMPL_BAD.pkl'
    path.write_bytes(pickle.dumps(data, protocol=2))
    with pytest.raises(DisallowedPickleError) as info:
        load_smpl_model_file(path)
    assert 'collections.OrderedDict' in str(info.value) and str(path) in str(info.value)


def test_code_in_a_pickle_is_never_executed(tmp_path):
    marker = tmp_path / 'executed'
    path = tmp_path / 'evil.pkl'
    path.write_bytes(pickle.dumps({'v_template': RunsCode(marker)}, protocol=2))
    with pytest.raises(DisallowedPickleError, match='system'):
        load_smpl_model_file(path)
    assert not marker.exists()


def test_converter_round_trip_and_refuses_overwrite(tmp_path, run_script,
                                                    synthetic_body_model):
    src = synthetic_body_model['smpl_paths']['female']
    out = tmp_path / 'SMPL_FEMALE.npz'
    assert run_script(CONVERTER, src, out)[0] == 0
    original, converted = load_smpl_model_file(src), load_smpl_model_file(out)
    assert set(converted) == set(original)
    for key, value in original.items():
        value = value.toarray() if sp.issparse(value) else value
        np.testing.assert_array_equal(np.asarray(converted[key]), np.asarray(value))
    with np.load(out, allow_pickle=False) as archive:  # really pickle-free
        assert all(archive[k].dtype != object for k in archive.files)
    before = out.read_bytes()
    status, message, _ = run_script(CONVERTER, src, out)
    assert status == 1 and message.startswith('smpl_pkl_to_npz: error: ') and '--force' in message
    assert out.read_bytes() == before
    male = synthetic_body_model['smpl_paths']['male']
    assert run_script(CONVERTER, male, out, '--force')[0] == 0
    np.testing.assert_array_equal(
        load_smpl_model_file(out)['v_template'],
        load_smpl_model_file(synthetic_body_model['smpl_paths']['male'])['v_template'])
    assert [p.name for p in tmp_path.iterdir()] == ['SMPL_FEMALE.npz']  # no temp files left


def test_save_drops_non_array_entries(tmp_path, synthetic_body_model):
    data = load_smpl_model_file(synthetic_body_model['smpl_npz_paths']['neutral'])
    data['pose_training_info'] = {'num_scans': 3}
    dropped = save_smpl_model_npz(data, tmp_path / 'm.npz')
    assert dropped == ['pose_training_info']


def test_missing_file_names_path_and_source(tmp_path):
    missing = tmp_path / 'nowhere' / 'SMPL_NEUTRAL.pkl'
    with pytest.raises(FileNotFoundError) as info:
        load_smpl_model_file(missing)
    assert str(missing) in str(info.value)
    assert 'https://smpl.is.tue.mpg.de' in str(info.value)
    with pytest.raises(FileNotFoundError) as info:
        resolve_smpl_path(tmp_path, 'male')
    assert 'SMPL_MALE.pkl' in str(info.value) and 'smpl.is.tue.mpg.de' in str(info.value)


def test_wrong_shapes_are_reported(tmp_path, synthetic_body_model):
    data = load_smpl_model_file(synthetic_body_model['smpl_npz_paths']['neutral'])
    data['weights'] = data['weights'][:, :20]
    path = tmp_path / 'bad.npz'
    np.savez(path, **{k: (v.toarray() if sp.issparse(v) else v) for k, v in data.items()})
    with pytest.raises(ValueError, match="'weights'"):
        load_smpl_model_file(path)
