"""Allow-list unpickling for the pickled files users already have: body-model assets and
dataset annotations (3DPW sequence files, object arrays of ``.npz`` annotations).

SMPL ``.pkl`` files and ``mesh_downsampling.npz`` are pickles. Plain ``pickle.load`` would
import and call anything the file names, and SMPL files additionally name ``chumpy`` classes
(chumpy does not import on Python >= 3.11). ``RestrictedUnpickler`` resolves only the globals
on an explicit allow-list (numpy arrays, scipy.sparse CSC/CSR matrices, the helpers pickle
itself emits) and maps chumpy classes to :class:`ChumpyObject`, which keeps the array a plain
``chumpy.ch.Ch`` holds and never imports chumpy. Anything else raises
:class:`DisallowedPickleError` naming the file and the class.
"""
import pickle
from typing import IO, Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

import numpy as np
import scipy.sparse as sp

try:  # numpy >= 1.26 has numpy._core; older releases only numpy.core
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - depends on the installed numpy
    from numpy.core import multiarray as _multiarray

GlobalKey = Tuple[str, str]

NUMPY_GLOBALS: Dict[GlobalKey, Any] = {
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): np.dtype,
}
for _module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
    NUMPY_GLOBALS[(_module, '_reconstruct')] = _multiarray._reconstruct
    NUMPY_GLOBALS[(_module, 'scalar')] = _multiarray.scalar

SCIPY_SPARSE_GLOBALS: Dict[GlobalKey, Any] = {}
for _fmt in ('csc', 'csr'):
    for _module in ('scipy.sparse', f'scipy.sparse.{_fmt}', f'scipy.sparse._{_fmt}'):
        SCIPY_SPARSE_GLOBALS[(_module, f'{_fmt}_matrix')] = getattr(sp, f'{_fmt}_matrix')

# Globals that pickle itself writes for plain objects (Python 2 and 3 spellings).
PICKLE_HELPER_GLOBALS: Dict[GlobalKey, Any] = {
    ('copy_reg', '_reconstructor'): __import__('copyreg')._reconstructor,
    ('copyreg', '_reconstructor'): __import__('copyreg')._reconstructor,
    ('__builtin__', 'object'): object,
    ('builtins', 'object'): object,
    ('__builtin__', 'set'): set,
    ('builtins', 'set'): set,
    ('_codecs', 'encode'): __import__('_codecs').encode,  # bytes in protocol <= 2 from Python 3
}

ARRAY_GLOBALS: Dict[GlobalKey, Any] = {**NUMPY_GLOBALS, **SCIPY_SPARSE_GLOBALS,
                                       **PICKLE_HELPER_GLOBALS}

CHUMPY_MODULES = ('chumpy', 'chumpy.ch', 'chumpy.ch_ops', 'chumpy.reordering', 'chumpy.linalg',
                  'chumpy.logic')


class DisallowedPickleError(pickle.UnpicklingError):
    """A pickle names a global that is not on the allow-list."""


class ChumpyObject:
    """Stand-in for a pickled chumpy object; never imports chumpy.

    A plain ``chumpy.ch.Ch`` pickles its value as the array ``x`` of its state; that array is
    kept in :attr:`array`. Derived chumpy expressions (sums, products, reorderings) cannot be
    evaluated without chumpy: their :attr:`array` is ``None``.

    Attributes:
        chumpy_class (str): dotted name of the chumpy class in the file.
        array (np.ndarray | None): the value of a plain ``Ch``.
    """
    chumpy_class = 'chumpy.ch.Ch'

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.array: Optional[np.ndarray] = None

    def __setstate__(self, state: Any) -> None:
        self.array = None
        if (self.chumpy_class == 'chumpy.ch.Ch' and isinstance(state, dict)
                and isinstance(state.get('x'), np.ndarray)):
            self.array = state['x']


_CHUMPY_STAND_INS: Dict[str, type] = {}


def chumpy_stand_in(module: str, name: str) -> type:
    """The :class:`ChumpyObject` subclass standing in for chumpy class ``module.name``."""
    dotted = f'{module}.{name}'
    if dotted not in _CHUMPY_STAND_INS:
        _CHUMPY_STAND_INS[dotted] = type(name, (ChumpyObject,), {'chumpy_class': dotted})
    return _CHUMPY_STAND_INS[dotted]


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that resolves only allow-listed globals.

    Args:
        file (IO[bytes]): binary stream positioned at the pickle.
        source (str): file name used in error messages.
        allowed_globals (Mapping[(str, str), Any]): ``(module, name) -> object`` to return.
        module_resolvers (Mapping[str, Callable[[str, str], Any]]): whole modules handled by a
            resolver ``(module, name) -> object`` (e.g. chumpy -> :func:`chumpy_stand_in`).
        encoding (str): how Python 2 ``str`` objects are decoded (``'latin1'`` keeps numpy
            buffers intact).
    """

    def __init__(self, file: IO[bytes], source: str,
                 allowed_globals: Mapping[GlobalKey, Any] = ARRAY_GLOBALS,
                 module_resolvers: Optional[Mapping[str, Callable[[str, str], Any]]] = None,
                 encoding: str = 'latin1') -> None:
        super().__init__(file, encoding=encoding)
        self.source = source
        self.allowed_globals = dict(allowed_globals)
        self.module_resolvers = dict(module_resolvers or {})

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.allowed_globals:
            return self.allowed_globals[(module, name)]
        if module in self.module_resolvers:
            return self.module_resolvers[module](module, name)
        allowed = sorted({m for m, _ in self.allowed_globals} | set(self.module_resolvers))
        raise DisallowedPickleError(
            f'{self.source}: refusing to unpickle class {module}.{name}: it is not on the '
            f'allow-list of this loader (objects from {", ".join(allowed)}). The file is not in '
            'a format this loader knows, or it was modified.')


def chumpy_resolvers(modules: Iterable[str] = CHUMPY_MODULES
                     ) -> Dict[str, Callable[[str, str], Any]]:
    """Module resolvers mapping every class of the chumpy modules to its stand-in."""
    return {module: chumpy_stand_in for module in modules}


def restricted_load(file: IO[bytes], source: str,
                    allowed_globals: Mapping[GlobalKey, Any] = ARRAY_GLOBALS,
                    module_resolvers: Optional[Mapping[str, Callable[[str, str], Any]]] = None
                    ) -> Any:
    """Unpickle one object from ``file`` with :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(file, source, allowed_globals, module_resolvers).load()


def normalize_sparse(matrix: Any, source: str, key: str) -> sp.csc_matrix:
    """Rebuild an unpickled scipy sparse matrix as a fresh CSC matrix (checks its parts)."""
    if not sp.issparse(matrix):
        raise TypeError(f'{source}: {key} should hold scipy.sparse matrices, got '
                        f'{type(matrix).__name__}')
    try:
        cls = sp.csr_matrix if isinstance(matrix, sp.csr_matrix) else sp.csc_matrix
        rebuilt = cls((np.asarray(matrix.data), np.asarray(matrix.indices),
                       np.asarray(matrix.indptr)), shape=tuple(matrix.shape))
    except (AttributeError, ValueError, TypeError) as err:
        raise ValueError(f'{source}: {key} holds a malformed sparse matrix ({err})') from err
    return rebuilt.tocsc()
