from .mesh_metric import MeshMetric

__all__ = ['MeshMetric']
