"""Atomic writes: all or nothing, and the file mode a plain write would give."""
import os

import numpy as np
import pytest
import torch

from postometro_mm.body_models.npz_io import atomic_write, save_npz_atomic
from postometro_mm.models.converters import save_checkpoint_atomic


@pytest.mark.parametrize('umask', [0o022, 0o002, 0o077])
def test_atomic_files_get_the_mode_of_a_plain_write(tmp_path, umask):
    previous = os.umask(umask)
    try:
        plain = tmp_path / 'plain.bin'
        plain.write_bytes(b'x')
        written = [save_npz_atomic(str(tmp_path / 'a.npz'), dict(x=np.zeros(2))),
                   atomic_write(str(tmp_path / 'b.bin'), lambda f: f.write(b'x'))]
        save_checkpoint_atomic(dict(w=torch.zeros(1)), str(tmp_path / 'c.pth'))
        written.append(str(tmp_path / 'c.pth'))
    finally:
        os.umask(previous)
    expected = plain.stat().st_mode & 0o777
    assert expected == 0o666 & ~umask
    assert [os.stat(p).st_mode & 0o777 for p in written] == [expected] * 3


def test_a_failed_write_leaves_nothing(tmp_path):
    def fail(f):
        f.write(b'partial')
        raise RuntimeError('disk full')

    with pytest.raises(RuntimeError, match='disk full'):
        atomic_write(str(tmp_path / 'out.bin'), fail)
    assert list(tmp_path.iterdir()) == []
