"""Random access to METRO / FastMETRO TSV files.

On-disk format (microsoft/MeshTransformer ``metro/utils/tsv_file*.py``):

- ``X.tsv``: one row per line, tab-separated columns, first column the image key.
  ``*.img.tsv`` rows are ``key<TAB>base64(JPEG)``; ``*.label.tsv`` rows are
  ``key<TAB>json``; ``*.hw.tsv`` rows are ``key<TAB>[{"height": h, "width": w}]``.
- ``X.lineidx``: the byte offset of every row of ``X.tsv``, one integer per line.
- ``*.linelist.tsv``: the rows to use, one row number per line (first column).
- composite sets: several TSVs per role and a sequence file whose lines are
  ``source_index<TAB>row_index``.

Rows are read with a seek to their offset, so no TSV is ever loaded as a whole. File handles
are reopened in each process (dataloader workers), as METRO does.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .validation import InvalidAnnotationError, require_file


def lineidx_path(tsv_path: str) -> str:
    """``a/b.img.tsv`` → ``a/b.img.lineidx``."""
    return osp.splitext(tsv_path)[0] + '.lineidx'


class TSVFile:
    """Rows of one TSV file through its ``.lineidx`` byte offsets.

    Args:
        path (str): the ``.tsv`` file; its ``.lineidx`` must sit next to it.
    """

    def __init__(self, path: str) -> None:
        require_file(path, 'TSV file')
        index_path = lineidx_path(path)
        require_file(index_path, f'line index of TSV file "{path}" (.lineidx)')
        self.path = path
        with open(index_path, 'rb') as f:
            try:
                self._offsets = np.array(f.read().split(), dtype=np.int64)
            except ValueError:
                raise InvalidAnnotationError(
                    f'{index_path}: expected one byte offset (integer) per line') from None
        size = os.path.getsize(path)
        if len(self._offsets) and (self._offsets.max() >= size or self._offsets.min() < 0):
            raise InvalidAnnotationError(
                f'{index_path}: offsets reach past the end of "{path}" ({size} bytes); the '
                'line index does not belong to this TSV file')
        self._fp = None
        self._pid: Optional[int] = None

    def __len__(self) -> int:
        return len(self._offsets)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state['_fp'], state['_pid'] = None, None
        return state

    def _file(self):
        if self._fp is None or self._pid != os.getpid():
            self._fp = open(self.path, 'rb')
            self._pid = os.getpid()
        return self._fp

    def _seek(self, index: int):
        if not 0 <= index < len(self._offsets):
            raise IndexError(f'{self.path}: row {index} out of range (the file has '
                             f'{len(self._offsets)} rows)')
        fp = self._file()
        fp.seek(int(self._offsets[index]))
        return fp

    def read_row(self, index: int) -> List[str]:
        """Columns of row ``index`` (without the line break)."""
        line = self._seek(index).readline()
        return line.decode('utf-8').rstrip('\r\n').split('\t')

    def read_key(self, index: int) -> str:
        """First column of row ``index``, read without loading the rest of the row."""
        fp = self._seek(index)
        chunks = []
        while True:
            chunk = fp.read(256)
            cut = min((p for p in (chunk.find(b'\t'), chunk.find(b'\n')) if p >= 0),
                      default=-1)
            if cut >= 0 or not chunk:
                chunks.append(chunk[:cut] if cut >= 0 else chunk)
                return b''.join(chunks).decode('utf-8').rstrip('\r')
            chunks.append(chunk)

    def __del__(self) -> None:
        if getattr(self, '_fp', None) is not None:
            self._fp.close()


class CompositeTSVFile:
    """Rows drawn from several TSV files, in the order of a sequence file.

    Args:
        paths (Sequence[str]): the TSV files (one per source).
        sequence (Sequence[tuple]): ``(source_index, row_index)`` per composite row.
        sequence_file (str): where ``sequence`` was read from (for messages).
    """

    def __init__(self, paths: Sequence[str], sequence: Sequence[Tuple[int, int]],
                 sequence_file: str) -> None:
        self.tsvs = [TSVFile(p) for p in paths]
        self._sequence = np.asarray(sequence, dtype=np.int64).reshape(-1, 2)
        bad = (self._sequence[:, 0] < 0) | (self._sequence[:, 0] >= len(self.tsvs))
        if bad.any():
            raise InvalidAnnotationError(
                f'{sequence_file}: line {int(np.argmax(bad)) + 1} names source '
                f'{int(self._sequence[bad][0, 0])}, but the composite lists {len(self.tsvs)} '
                'TSV files')
        self.path = f'{sequence_file} ({len(self.tsvs)} TSV files)'

    def __len__(self) -> int:
        return len(self._sequence)

    def locate(self, index: int) -> Tuple[TSVFile, int]:
        """The TSV file and row that composite row ``index`` comes from."""
        source, row = self._sequence[index]
        return self.tsvs[int(source)], int(row)

    def read_row(self, index: int) -> List[str]:
        tsv, row = self.locate(index)
        return tsv.read_row(row)

    def read_key(self, index: int) -> str:
        tsv, row = self.locate(index)
        return tsv.read_key(row)


def _read_integer_columns(path: str, what: str, num_columns: int, line_format: str
                          ) -> np.ndarray:
    """The first ``num_columns`` tab-separated integers of every non-empty line, (M, C)."""
    require_file(path, what)
    rows = []
    with open(path, 'r', encoding='utf-8') as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                values = [int(c) for c in line.split('\t')[:num_columns]]
            except ValueError:
                values = []
            if len(values) != num_columns:
                raise InvalidAnnotationError(
                    f'{path}: line {number} should be "{line_format}", got '
                    f'{line.strip()[:40]!r}')
            rows.append(values)
    return np.asarray(rows, dtype=np.int64).reshape(-1, num_columns)


def read_linelist(path: str) -> np.ndarray:
    """Row numbers (first column of every non-empty line) of a ``*.linelist.tsv``."""
    return _read_integer_columns(path, 'TSV line list', 1, 'row_index[<TAB>...]')[:, 0]


def read_composite_sequence(path: str) -> np.ndarray:
    """``(source_index, row_index)`` pairs (M, 2) of a composite sequence file."""
    return _read_integer_columns(path, 'composite TSV sequence file (linelist)', 2,
                                 'source_index<TAB>row_index')
