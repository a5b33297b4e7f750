from .body_model_mesh import BuildBodyModelMesh, PackMeshAutoencoderInputs
from .formatting import MESH_INSTANCE_KEYS, MESH_META_KEYS, PackMeshInputs, normalize_crop_points
from .loading import LoadMeshImage
from .mesh_transforms import (MeshPixelNoise, MeshRandomFlip, MeshRandomRotation,
                              MeshRandomScale, MeshTopdownAffine, rotate_global_orient)
from .occlusion import RandomOcclusion

__all__ = [
    'BuildBodyModelMesh', 'PackMeshAutoencoderInputs', 'LoadMeshImage', 'MeshTopdownAffine', 'MeshRandomFlip', 'MeshRandomRotation',
    'MeshRandomScale', 'MeshPixelNoise', 'RandomOcclusion', 'PackMeshInputs',
    'MESH_INSTANCE_KEYS', 'MESH_META_KEYS', 'normalize_crop_points', 'rotate_global_orient'
]
