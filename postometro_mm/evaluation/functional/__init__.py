from .mesh_errors import (mpjpe, mpvpe, pa_mpjpe, pa_mpvpe, point_errors,
                          similarity_procrustes)

__all__ = [
    'similarity_procrustes', 'point_errors', 'mpjpe', 'pa_mpjpe', 'mpvpe', 'pa_mpvpe'
]
