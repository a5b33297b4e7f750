"""Triangle-mesh files: Wavefront ``.obj`` (text) and Stanford ``.ply`` (binary little-endian).

Both writers store the vertices as given (the demo writes metres in the OpenCV camera frame:
x right, y down, z forward) and 0-based ``(F, 3)`` faces; the readers return exactly what was
written (``.ply`` keeps float32 bit for bit, ``.obj`` keeps 9 significant digits, enough to
round-trip float32).
"""
from typing import Optional, Tuple

import numpy as np

_PLY_FACE_DTYPE = np.dtype([('count', 'u1'), ('index', '<i4', (3, ))])


def _check_mesh(vertices: np.ndarray, faces: np.ndarray,
                vertex_colors: Optional[np.ndarray] = None
                ) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    vertices = np.asarray(vertices)
    faces = np.asarray(faces)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ValueError(f'mesh vertices must be (V, 3), got {vertices.shape}')
    if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
        raise ValueError(f'mesh faces must be integer (F, 3), got {faces.dtype} {faces.shape}')
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ValueError(f'mesh faces index vertices outside [0, {len(vertices)})')
    if vertex_colors is not None:
        vertex_colors = np.asarray(vertex_colors)
        if vertex_colors.shape != vertices.shape:
            raise ValueError(f'vertex colours must be {vertices.shape} RGB 0-255, got '
                             f'{vertex_colors.shape}')
        vertex_colors = np.clip(np.round(vertex_colors), 0, 255).astype(np.uint8)
    return vertices, faces.astype(np.int64), vertex_colors


def save_obj(path: str, vertices: np.ndarray, faces: np.ndarray) -> str:
    """Write a Wavefront ``.obj`` (``v x y z`` lines, then 1-based ``f a b c`` lines).

    Args:
        path (str): output file.
        vertices (np.ndarray): (V, 3).
        faces (np.ndarray): (F, 3) 0-based vertex indices.

    Returns:
        str: ``path``.
    """
    vertices, faces, _ = _check_mesh(vertices, faces)
    with open(path, 'w') as f:
        f.write(f'# postometro_mm mesh: {len(vertices)} vertices, {len(faces)} faces\n')
        np.savetxt(f, vertices.astype(np.float64), fmt='v %.9g %.9g %.9g')
        np.savetxt(f, faces + 1, fmt='f %d %d %d')
    return path


def load_obj(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Read the vertices (V, 3) float32 and 0-based triangle faces (F, 3) int64 of an
    ``.obj`` file (``v`` and ``f`` records; ``f`` entries may be ``i``, ``i/t`` or ``i/t/n``,
    negative indices count from the end)."""
    vertices, faces = [], []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if parts[0] == 'v':
                vertices.append([float(v) for v in parts[1:4]])
            elif parts[0] == 'f':
                if len(parts) != 4:
                    raise ValueError(f'{path}:{line_no}: only triangle faces are supported, '
                                     f'got {len(parts) - 1} vertices')
                idx = [int(p.split('/')[0]) for p in parts[1:]]
                faces.append([i - 1 if i > 0 else len(vertices) + i for i in idx])
    return (np.asarray(vertices, dtype=np.float32).reshape(-1, 3),
            np.asarray(faces, dtype=np.int64).reshape(-1, 3))


def save_ply(path: str, vertices: np.ndarray, faces: np.ndarray,
             vertex_colors: Optional[np.ndarray] = None) -> str:
    """Write a binary little-endian ``.ply`` (float32 ``x y z``, optional uchar
    ``red green blue``, faces as ``uchar`` count + ``int`` indices).

    Args:
        path (str): output file.
        vertices (np.ndarray): (V, 3).
        faces (np.ndarray): (F, 3) 0-based vertex indices.
        vertex_colors (np.ndarray, optional): (V, 3) RGB 0-255.

    Returns:
        str: ``path``.
    """
    vertices, faces, colors = _check_mesh(vertices, faces, vertex_colors)
    fields = [('xyz', '<f4', (3, ))] + ([('rgb', 'u1', (3, ))] if colors is not None else [])
    vert = np.empty(len(vertices), dtype=np.dtype(fields))
    vert['xyz'] = vertices
    if colors is not None:
        vert['rgb'] = colors
    face = np.empty(len(faces), dtype=_PLY_FACE_DTYPE)
    face['count'] = 3
    face['index'] = faces
    header = ['ply', 'format binary_little_endian 1.0', 'comment postometro_mm mesh',
              f'element vertex {len(vertices)}', 'property float x', 'property float y',
              'property float z']
    if colors is not None:
        header += ['property uchar red', 'property uchar green', 'property uchar blue']
    header += [f'element face {len(faces)}', 'property list uchar int vertex_indices',
               'end_header']
    with open(path, 'wb') as f:
        f.write(('\n'.join(header) + '\n').encode('ascii'))
        f.write(vert.tobytes())
        f.write(face.tobytes())
    return path


def load_ply(path: str) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Read a ``.ply`` written by :func:`save_ply`.

    Returns:
        tuple: vertices (V, 3) float32, faces (F, 3) int64 and vertex colours (V, 3) uint8
        or None.
    """
    with open(path, 'rb') as f:
        data = f.read()
    end = data.find(b'end_header\n')
    if not data.startswith(b'ply\n') or end < 0:
        raise ValueError(f'{path} is not a PLY file')
    header = data[:end].decode('ascii').splitlines()
    if 'format binary_little_endian 1.0' not in header:
        raise ValueError(f'{path}: only binary little-endian PLY files are supported')
    counts = {line.split()[1]: int(line.split()[2]) for line in header
              if line.startswith('element')}
    with_colors = 'property uchar red' in header
    fields = [('xyz', '<f4', (3, ))] + ([('rgb', 'u1', (3, ))] if with_colors else [])
    vert_dtype = np.dtype(fields)
    offset = end + len(b'end_header\n')
    vert = np.frombuffer(data, dtype=vert_dtype, count=counts['vertex'], offset=offset)
    offset += vert_dtype.itemsize * counts['vertex']
    face = np.frombuffer(data, dtype=_PLY_FACE_DTYPE, count=counts['face'], offset=offset)
    if np.any(face['count'] != 3):
        raise ValueError(f'{path}: only triangle faces are supported')
    return (vert['xyz'].copy(), face['index'].astype(np.int64),
            vert['rgb'].copy() if with_colors else None)
