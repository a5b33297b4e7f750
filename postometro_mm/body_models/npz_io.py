"""File helpers shared by the body-model loaders, converters and the synthetic generator.

* :func:`atomic_write` / :func:`save_npz_atomic`: write to a temporary file in the target
  folder and rename it into place, so a crash never leaves a half-written asset; refuse to
  replace an existing file unless asked to.
* :func:`load_npz_member`: read one member of an ``.npz`` archive whose object arrays are
  pickles (the legacy ``mesh_downsampling.npz``) through :class:`RestrictedUnpickler`,
  without touching the other members.
"""
import os
import os.path as osp
import tempfile
import zipfile
from typing import IO, Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from .restricted_pickle import ARRAY_GLOBALS, restricted_load


def _plain_file_mode() -> int:
    """The mode ``open(path, 'w')`` gives a new file: 0666 less the process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str, write: Callable[[IO[bytes]], None], overwrite: bool = False) -> str:
    """Write a file atomically, with the mode a plain write would give it.

    Args:
        path (str): destination file.
        write (Callable[[IO[bytes]], None]): writes the content into the given binary file.
        overwrite (bool): replace an existing ``path``. Default: False.

    Returns:
        str: ``path``.

    Raises:
        FileExistsError: if ``path`` exists and ``overwrite`` is False.
    """
    path = osp.abspath(os.fspath(path))
    if osp.exists(path) and not overwrite:
        raise FileExistsError(f'{path} already exists; refusing to overwrite it (pass '
                              '--force / overwrite=True to replace it)')
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
        os.chmod(tmp_path, _plain_file_mode())  # mkstemp's files are private (0600)
        os.replace(tmp_path, path)
    except BaseException:
        if osp.exists(tmp_path):
            os.unlink(tmp_path)
        raise
    return path


def save_npz_atomic(path: str, arrays: Mapping[str, Any], overwrite: bool = False) -> str:
    """Atomically write a pickle-free ``.npz`` (object arrays are rejected).

    Args:
        path (str): destination file (written as given, no suffix appended).
        arrays (Mapping[str, Any]): member name -> array-like (numbers, strings, arrays).
        overwrite (bool): replace an existing file. Default: False.

    Returns:
        str: ``path``.
    """
    converted = {}
    for key, value in arrays.items():
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f'{path}: member {key!r} is an object array; this writer only '
                            'writes pickle-free archives')
        converted[key] = array
    return atomic_write(path, lambda f: np.savez(f, **converted), overwrite)


def npz_member_names(path: str) -> List[str]:
    """Names of the arrays stored in an ``.npz`` archive (without ``.npy``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return [n[:-4] if n.endswith('.npy') else n for n in archive.namelist()]
    except zipfile.BadZipFile as err:
        raise ValueError(f'{path} is not an .npz archive ({err})') from err


def _read_header(stream: IO[bytes]) -> Tuple[Tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(stream)
    raise ValueError(f'unsupported .npy format version {version}')


def load_npz_member(path: str, key: str,
                    allowed_globals: Mapping[Tuple[str, str], Any] = ARRAY_GLOBALS,
                    module_resolvers: Optional[Dict[str, Callable[[str, str], Any]]] = None
                    ) -> Any:
    """Read one member of an ``.npz``; object arrays go through the restricted unpickler.

    Args:
        path (str): the archive.
        key (str): member name without ``.npy``.
        allowed_globals: allow-list passed to :class:`RestrictedUnpickler`.
        module_resolvers: whole-module resolvers passed to :class:`RestrictedUnpickler`.

    Returns:
        np.ndarray | Any: the stored array, or the unpickled object for object arrays.
    """
    source = f'{path} [{key}]'
    with zipfile.ZipFile(path) as archive:
        member = f'{key}.npy'
        if member not in archive.namelist():
            raise KeyError(f'{path} has no member {key!r} (members: '
                           f'{npz_member_names(path)})')
        with archive.open(member) as stream:
            _, _, dtype = _read_header(stream)
            if dtype.hasobject:
                return restricted_load(stream, source, allowed_globals, module_resolvers)
        with archive.open(member) as stream:
            return np.lib.format.read_array(stream, allow_pickle=False)
