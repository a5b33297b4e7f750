"""File helpers shared by the body-model loaders, converters and the synthetic generator.

* :func:`atomic_write_all` / :func:`save_npz_all` (and their one-file forms
  :func:`atomic_write` / :func:`save_npz_atomic`): write to temporary files in the target
  folders and rename them into place once all are written, so a crash never leaves a
  half-written asset or half of a converter's outputs; refuse to replace existing files unless
  asked to.
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


def plain_file_mode() -> int:
    """The mode ``open(path, 'w')`` gives a new file: 0666 less the process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_all(writes: Mapping[str, Callable[[IO[bytes]], None]],
                     overwrite: bool = False) -> List[str]:
    """Write several files, all or none, each with the mode a plain write would give it.

    Every file is written into a temporary file beside it; only when all are written are they
    renamed into place. A failure (checked destinations, a write, a full disk) leaves every
    destination as it was and no temporary file behind.

    Args:
        writes (Mapping[str, Callable[[IO[bytes]], None]]): destination file -> function that
            writes its content into the given binary file.
        overwrite (bool): replace existing destinations. Default: False.

    Returns:
        list[str]: the absolute destination paths.

    Raises:
        FileExistsError: a destination exists and ``overwrite`` is False.
        IsADirectoryError: a destination is a folder.
    """
    paths = [osp.abspath(os.fspath(path)) for path in writes]
    for path in paths:
        if osp.isdir(path):
            raise IsADirectoryError(f'{path} is a folder; cannot write a file there')
        if osp.exists(path) and not overwrite:
            raise FileExistsError(f'{path} already exists; refusing to overwrite it (pass '
                                  '--force / overwrite=True to replace it)')
    temporaries: List[str] = []
    try:
        for path, write in zip(paths, writes.values()):
            folder = osp.dirname(path)
            os.makedirs(folder, exist_ok=True)
            fd, tmp_path = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.', suffix='.tmp',
                                            dir=folder)
            temporaries.append(tmp_path)
            with os.fdopen(fd, 'wb') as f:
                write(f)
            os.chmod(tmp_path, plain_file_mode())  # mkstemp's files are private (0600)
        for tmp_path, path in zip(temporaries, paths):
            os.replace(tmp_path, path)
    except BaseException:
        for tmp_path in temporaries:
            if osp.exists(tmp_path):
                os.unlink(tmp_path)
        raise
    return paths


def atomic_write(path: str, write: Callable[[IO[bytes]], None], overwrite: bool = False) -> str:
    """:func:`atomic_write_all` of one file; returns its absolute path."""
    return atomic_write_all({path: write}, overwrite)[0]


def _pickle_free(path: str, arrays: Mapping[str, Any]) -> Dict[str, np.ndarray]:
    converted = {}
    for key, value in arrays.items():
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f'{path}: member {key!r} is an object array; this writer only '
                            'writes pickle-free archives')
        converted[key] = array
    return converted


def save_npz_all(outputs: Mapping[str, Mapping[str, Any]],
                 overwrite: bool = False) -> List[str]:
    """Write several pickle-free ``.npz`` files (object arrays are rejected), all or none
    (:func:`atomic_write_all`).

    Args:
        outputs: destination file (written as given, no suffix appended) -> its members
            (name -> array-like of numbers or strings).
        overwrite (bool): replace existing files. Default: False.
    """
    converted = {path: _pickle_free(path, arrays) for path, arrays in outputs.items()}
    return atomic_write_all({path: (lambda f, a=arrays: np.savez(f, **a))
                             for path, arrays in converted.items()}, overwrite)


def save_npz_atomic(path: str, arrays: Mapping[str, Any], overwrite: bool = False) -> str:
    """Atomically write one pickle-free ``.npz`` (:func:`save_npz_all` of one file)."""
    return save_npz_all({path: arrays}, overwrite)[0]


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


def _member(archive: zipfile.ZipFile, path: str, key: str) -> str:
    """The archive entry of member ``key``; ``KeyError`` naming the file and its members."""
    member = f'{key}.npy'
    if member not in archive.namelist():
        raise KeyError(f'{path} has no member {key!r} (members: {npz_member_names(path)})')
    return member


def npz_member_shape(path: str, key: str) -> Tuple[int, ...]:
    """Shape of one member of an ``.npz`` archive, read from its header only (the data is not
    read, so a large motion file costs one small read)."""
    with zipfile.ZipFile(path) as archive:
        with archive.open(_member(archive, path, key)) as stream:
            return tuple(_read_header(stream)[0])


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
        member = _member(archive, path, key)
        with archive.open(member) as stream:
            _, _, dtype = _read_header(stream)
            if dtype.hasobject:
                return restricted_load(stream, source, allowed_globals, module_resolvers)
        with archive.open(member) as stream:
            return np.lib.format.read_array(stream, allow_pickle=False)
