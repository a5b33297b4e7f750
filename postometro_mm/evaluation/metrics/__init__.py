from .mesh_metric import MeshMetric

__all__ = ['MeshMetric']
from .mesh_reconstruction_metric import MeshReconstructionMetric  # noqa: E402

__all__ += ['MeshReconstructionMetric']
