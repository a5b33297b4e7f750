from .mesh_losses import (Joint2DL1Loss, Joint3DL1Loss, MeshEdgeLengthLoss,
                          MeshNormalLoss, MeshVertexL1Loss)

__all__ = [
    'MeshVertexL1Loss', 'Joint3DL1Loss', 'Joint2DL1Loss', 'MeshEdgeLengthLoss',
    'MeshNormalLoss'
]
