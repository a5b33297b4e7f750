"""Shared pieces of the annotation converters: argument checks and column stacking."""
import os.path as osp
import pickle
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from postometro_mm.body_models import DisallowedPickleError, SMPLJ24Regressor
from postometro_mm.body_models.restricted_pickle import ARRAY_GLOBALS, restricted_load
from ..validation import InvalidAnnotationError, require_keys


def check_splits(splits: Sequence[str], known: Sequence[str]) -> None:
    """Raise unless ``splits`` is a non-empty subset of ``known``."""
    if not splits or set(splits) - set(known):
        raise ValueError(f'splits should be a non-empty subset of {tuple(known)}, got '
                         f'{tuple(splits)}')


def check_outputs_writable(paths: Iterable[str], force: bool) -> None:
    """Refuse to overwrite existing outputs unless ``force`` (checked before writing any)."""
    existing = [p for p in paths if osp.exists(p)]
    if existing and not force:
        raise FileExistsError(f'output file(s) already exist: {", ".join(existing)}; pass '
                              '--force (force=True) to overwrite')


def j24_regressor_or_none(body_model_dir: Optional[str],
                          j_regressor_extra: Optional[str]) -> Optional[SMPLJ24Regressor]:
    """The J24-from-SMPL regressor when both body-model paths are given, None when neither.

    Raises:
        ValueError: if only one of them is given.
    """
    if (body_model_dir is None) != (j_regressor_extra is None):
        raise ValueError('body_model_dir and j_regressor_extra enable the 3D joints together; '
                         'give both or neither')
    if body_model_dir is None:
        return None
    return SMPLJ24Regressor(body_model_dir, j_regressor_extra)


def stack_records(records: List[Dict[str, Any]],
                  empty_shapes: Dict[str, Tuple[Tuple[int, ...], str]]) -> Dict[str, np.ndarray]:
    """Column-stack per-record dicts (all with the same keys) into arrays.

    Args:
        records: one dict per record.
        empty_shapes: ``{key: (per-record shape, dtype)}`` of the columns to write when there
            are no records, so that an empty output is still a well-formed file.
    """
    if not records:
        return {key: np.zeros((0, ) + shape, dtype=dtype)
                for key, (shape, dtype) in empty_shapes.items()}
    return {key: np.stack([np.asarray(r[key]) for r in records]) for key in records[0]}


def load_sequence_pickle(path: str, what: str, required_keys: Sequence[str]) -> dict:
    """Read a dataset's per-sequence pickle (a dict) and check its top-level keys.

    The allow-list admits numpy arrays and plain containers only: a crafted file cannot run
    code (:class:`DisallowedPickleError` names it and the class).

    Args:
        path: the pickle.
        what: what the file is, for messages (e.g. "3DPW sequence pickle").
        required_keys: keys the dict must have.

    Raises:
        InvalidAnnotationError: the file cannot be unpickled or holds no dict.
        KeyError: a required key is missing.
    """
    try:
        with open(path, 'rb') as f:
            data = restricted_load(f, path, ARRAY_GLOBALS)
    except DisallowedPickleError:
        raise
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as err:
        raise InvalidAnnotationError(f'{path}: cannot be read as {what} ({err})') from None
    if not isinstance(data, dict):
        raise InvalidAnnotationError(f'{path}: expected a dict, got {type(data).__name__}')
    require_keys(data, required_keys, path)
    return data
