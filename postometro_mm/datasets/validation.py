"""Checks shared by the mesh datasets and converters: one error type, one wording.

Every message names the file (and record or row) and states what was expected, so a user can
fix the input without reading code. Datasets built with ``skip_invalid=True`` collect bad
records in an :class:`InvalidRecordLog` and report them in a single warning instead.
"""
import json
import os.path as osp
import warnings
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import yaml


class InvalidAnnotationError(ValueError):
    """An annotation file, or one of its records, does not follow its documented format."""


def require_file(path: str, what: str) -> None:
    """Raise ``FileNotFoundError`` naming ``what`` (e.g. "3DPW annotation file") if missing."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} "{path}" does not exist')


def read_mapping_file(path: str, what: str, expected: str) -> dict:
    """Parse a ``.json`` file (JSON) or any other file (YAML) that must hold a mapping.

    Args:
        path: the file.
        what: what the file is, for the missing-file message (e.g. "METRO TSV yaml file").
        expected: what the mapping holds, for the wrong-type message.

    Raises:
        FileNotFoundError: if the file is missing.
        InvalidAnnotationError: if it does not parse or does not hold a mapping.
    """
    require_file(path, what)
    is_json = path.lower().endswith('.json')
    with open(path, 'r', encoding='utf-8') as f:
        try:
            content = json.load(f) if is_json else yaml.safe_load(f)
        except (json.JSONDecodeError, yaml.YAMLError) as err:
            raise InvalidAnnotationError(f'{path}: not valid {"JSON" if is_json else "yaml"} '
                                         f'({err})') from None
    if not isinstance(content, dict):
        raise InvalidAnnotationError(f'{path}: expected {expected}')
    return content


def require_keys(available: Iterable[str], required: Sequence[str], source: str) -> None:
    """Raise ``KeyError`` naming the first missing key, the source and the keys it does have."""
    available = list(available)
    for key in required:
        if key not in available:
            raise KeyError(f'{source}: required key "{key}" is missing '
                           f'(found keys: {sorted(available)})')


def check_shape(array: np.ndarray, expected: Tuple[Optional[int], ...], source: str,
                key: str) -> np.ndarray:
    """Return ``array`` as a numeric numpy array after checking its shape.

    Args:
        array: the value to check.
        expected: expected shape; ``None`` entries match any size.
        source: file (and record) the value comes from, used in the message.
        key: name of the value in its source.

    Raises:
        InvalidAnnotationError: wrong number of dimensions, wrong size or non-numeric data.
    """
    try:
        array = np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidAnnotationError(
            f'{source}: key "{key}" is not numeric ({err}); expected shape '
            f'{_shape_str(expected)}') from None
    ok = array.ndim == len(expected) and all(
        e is None or e == s for e, s in zip(expected, array.shape))
    if not ok:
        raise InvalidAnnotationError(
            f'{source}: key "{key}" has shape {tuple(array.shape)}, expected '
            f'{_shape_str(expected)}')
    return array


def nonfinite_rows(array: np.ndarray) -> np.ndarray:
    """Boolean mask (N,) of rows of ``array`` (N, ...) holding a NaN or an infinity."""
    array = np.asarray(array, dtype=np.float64)
    return ~np.isfinite(array.reshape(array.shape[0], -1)).all(axis=1)


def _shape_str(shape: Tuple[Optional[int], ...]) -> str:
    return '(' + ', '.join('N' if s is None else str(s) for s in shape) + ')'


class InvalidRecordLog:
    """Collect invalid records while loading one annotation source, then raise or warn once.

    Args:
        source (str): the annotation file (or TSV) the records come from.
        skip_invalid (bool): if False, :meth:`finish` raises for the first invalid record;
            if True, it emits one warning with the number of skipped records per reason.
    """

    def __init__(self, source: str, skip_invalid: bool) -> None:
        self.source = source
        self.skip_invalid = skip_invalid
        self._reasons: Dict[int, Tuple[str, str]] = {}

    def add(self, index: int, reason: str, name: Optional[str] = None) -> None:
        """Register record ``index`` as invalid (the first reason given for it is kept)."""
        label = f'record {index}' if name is None else f'record {index} ({name})'
        self._reasons.setdefault(int(index), (label, reason))

    def add_mask(self, mask: np.ndarray, reason: str) -> None:
        """Register every row where the boolean ``mask`` (N,) is True as invalid."""
        for index in np.flatnonzero(mask):
            self.add(int(index), reason)

    @property
    def invalid_indices(self) -> List[int]:
        """Sorted indices of the invalid records."""
        return sorted(self._reasons)

    def __len__(self) -> int:
        return len(self._reasons)

    def finish(self, total: int) -> None:
        """Raise for the first invalid record, or warn once with counts when skipping."""
        if not self._reasons:
            return
        if not self.skip_invalid:
            label, reason = self._reasons[min(self._reasons)]
            more = (f' ({len(self) - 1} more invalid records; pass skip_invalid=True to skip '
                    'them)') if len(self) > 1 else ' (pass skip_invalid=True to skip it)'
            raise InvalidAnnotationError(f'{self.source}: {label}: {reason}{more}')
        counts = Counter(reason for _, reason in self._reasons.values()).most_common()
        details = '; '.join(f'{n} x {reason}' for reason, n in counts[:5])
        if len(counts) > 5:
            details += f'; and {len(counts) - 5} other reasons'
        warnings.warn(
            f'{self.source}: skipped {len(self)} of {total} records as invalid ({details})',
            UserWarning, stacklevel=3)
