"""Reading and writing SMPL model files without chumpy.

SMPL is licensed: users download it themselves from https://smpl.is.tue.mpg.de. The official
``.pkl`` files are Python 2 pickles holding numpy arrays, scipy CSC matrices (``J_regressor``)
and chumpy arrays (e.g. ``shapedirs``). :func:`load_smpl_model_file` reads them through an
allow-list unpickler that maps chumpy to plain arrays, and also reads the pickle-free ``.npz``
written by :func:`save_smpl_model_npz` (``tools/model_converters/smpl_pkl_to_npz.py``).
"""
import os
import os.path as osp
from typing import Any, Dict, List, Tuple

import numpy as np
import scipy.sparse as sp

from .npz_io import save_npz_atomic
from .restricted_pickle import (ARRAY_GLOBALS, ChumpyObject, chumpy_resolvers,
                                normalize_sparse, restricted_load)

GENDERS: Tuple[str, ...] = ('neutral', 'male', 'female')

SMPL_SOURCE_HINT = (
    'SMPL is licensed and never downloaded by postometro_mm: register at '
    'https://smpl.is.tue.mpg.de, download the SMPL model files and place them as '
    'SMPL_NEUTRAL/SMPL_MALE/SMPL_FEMALE .pkl (or .npz made with '
    'tools/model_converters/smpl_pkl_to_npz.py) in the folder your config points to.')

#: Keys smplx needs, with their expected ranks.
SMPL_REQUIRED_KEYS: Dict[str, int] = {
    'v_template': 2, 'shapedirs': 3, 'posedirs': 3, 'J_regressor': 2, 'weights': 2,
    'kintree_table': 2, 'f': 2}


def smpl_file_names(gender: str) -> Tuple[str, str]:
    """File names looked up in a model folder for ``gender``, pickle-free first."""
    if gender not in GENDERS:
        raise ValueError(f'unknown SMPL gender {gender!r}; expected one of {GENDERS}')
    stem = f'SMPL_{gender.upper()}'
    return f'{stem}.npz', f'{stem}.pkl'


def resolve_smpl_path(model_path: str, gender: str = 'neutral') -> str:
    """The SMPL file for ``gender``: ``model_path`` itself or ``SMPL_{GENDER}.{npz,pkl}`` in it.

    Raises:
        FileNotFoundError: naming the missing path(s) and where SMPL comes from.
    """
    model_path = os.fspath(model_path)
    if osp.isdir(model_path):
        candidates = [osp.join(model_path, name) for name in smpl_file_names(gender)]
        for candidate in candidates:
            if osp.isfile(candidate):
                return candidate
        raise FileNotFoundError(
            f'no {gender} SMPL model in {model_path}: looked for '
            f'{" and ".join(candidates)}. {SMPL_SOURCE_HINT}')
    if not osp.isfile(model_path):
        raise FileNotFoundError(f'SMPL model file {model_path} does not exist. '
                                f'{SMPL_SOURCE_HINT}')
    return model_path


def _plain_value(value: Any, source: str, key: str) -> Any:
    """Convert one unpickled top-level value to numpy/scipy (``None`` if not evaluable)."""
    if isinstance(value, ChumpyObject):
        return value.array
    if sp.issparse(value):
        return normalize_sparse(value, source, key)
    return value


def validate_smpl_data(data: Dict[str, Any], source: str) -> None:
    """Check the arrays smplx needs: presence, ranks and matching vertex/joint counts."""
    for key, rank in SMPL_REQUIRED_KEYS.items():
        if key not in data:
            raise KeyError(f'{source}: missing key {key!r}; an SMPL model file needs '
                           f'{sorted(SMPL_REQUIRED_KEYS)}')
        if len(np.shape(data[key])) != rank:
            raise ValueError(f'{source}: {key!r} should have {rank} dimensions, got shape '
                             f'{np.shape(data[key])}')
    num_verts = np.shape(data['v_template'])[0]
    num_joints = np.shape(data['kintree_table'])[1]
    expected = {
        'v_template': (num_verts, 3), 'shapedirs': (num_verts, 3, None),
        'posedirs': (num_verts, 3, 9 * (num_joints - 1)), 'J_regressor': (num_joints, num_verts),
        'weights': (num_verts, num_joints), 'kintree_table': (2, num_joints), 'f': (None, 3)}
    for key, shape in expected.items():
        actual = np.shape(data[key])
        if any(e is not None and e != a for e, a in zip(shape, actual)):
            wanted = tuple('*' if e is None else e for e in shape)
            raise ValueError(f'{source}: {key!r} has shape {actual}, expected {wanted} '
                             f'({num_verts} vertices, {num_joints} joints)')


def load_smpl_model_file(path: str) -> Dict[str, Any]:
    """Load an SMPL model file (``.pkl`` with or without chumpy objects, or ``.npz``).

    chumpy is never imported: a plain ``chumpy.ch.Ch`` becomes its numpy array; chumpy
    expressions that need chumpy to evaluate are dropped (smplx does not use them). Classes
    outside numpy, scipy.sparse (CSC/CSR) and chumpy are refused.

    Args:
        path (str): the ``.pkl`` or ``.npz`` file.

    Returns:
        dict: key -> numpy array (``J_regressor`` may be a ``scipy.sparse.csc_matrix``),
        strings for ``bs_style``/``bs_type`` and any other entries the file holds.

    Raises:
        FileNotFoundError: naming the file and where SMPL comes from.
        DisallowedPickleError: naming the file and a class not on the allow-list.
        KeyError / ValueError: if a required array is missing or has the wrong shape.
    """
    path = os.fspath(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'SMPL model file {path} does not exist. {SMPL_SOURCE_HINT}')
    ext = osp.splitext(path)[1].lower()
    if ext == '.pkl':
        with open(path, 'rb') as f:
            raw = restricted_load(f, path, ARRAY_GLOBALS, chumpy_resolvers())
        if not isinstance(raw, dict):
            raise ValueError(f'{path}: expected a pickled dict of SMPL arrays, got '
                             f'{type(raw).__name__}')
        data = {}
        for key, value in raw.items():
            plain = _plain_value(value, path, key)
            if plain is None and key in SMPL_REQUIRED_KEYS:
                raise ValueError(
                    f'{path}: {key!r} is a chumpy expression ({value.chumpy_class}) that '
                    'cannot be evaluated without chumpy; convert the file with '
                    'tools/model_converters/smpl_pkl_to_npz.py in an environment where '
                    'the original file loads')
            if plain is not None:
                data[key] = plain
    elif ext == '.npz':
        with np.load(path, allow_pickle=False) as archive:
            data = {key: archive[key] for key in archive.files}
        data = {key: value.item() if value.ndim == 0 else value for key, value in data.items()}
    else:
        raise ValueError(f'{path}: unsupported SMPL model file type {ext!r} '
                         '(expected .pkl or .npz)')
    validate_smpl_data(data, path)
    return data


def save_smpl_model_npz(data: Dict[str, Any], path: str, overwrite: bool = False) -> List[str]:
    """Write SMPL arrays as a pickle-free ``.npz`` (sparse matrices are stored dense).

    Args:
        data (dict): as returned by :func:`load_smpl_model_file`.
        path (str): destination ``.npz``; written atomically.
        overwrite (bool): replace an existing file. Default: False.

    Returns:
        list[str]: keys left out because they are not arrays or strings (e.g. dicts of
        training metadata).
    """
    validate_smpl_data(data, str(path))
    arrays, dropped = {}, []
    for key, value in data.items():
        if sp.issparse(value):
            value = value.toarray()
        if isinstance(value, (str, int, float, np.ndarray, np.generic)) and \
                np.asarray(value).dtype != object:
            arrays[key] = value
        else:
            dropped.append(key)
    save_npz_atomic(path, arrays, overwrite)
    return dropped
