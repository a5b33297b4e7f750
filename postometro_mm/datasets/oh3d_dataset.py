"""3DOH50K (Zhang et al., CVPR 2020), from the file written by the 3DOH converter."""
from mmpose.registry import DATASETS

from .spin_npz_dataset import SPINNpzDataset


@DATASETS.register_module()
class OH3DDataset(SPINNpzDataset):
    """3DOH50K samples (object-occluded people), one per annotated image.

    Reads the ``.npz`` written by ``tools/dataset_converters/oh3d_converter.py``: SPIN keys
    (J24 2D from the LSP-14 annotation, SMPL pose rotated into the camera frame, optional J24
    3D from the body model) plus ``coco_keypoints``, ``frame_id`` (the annotation id),
    ``cam_intrinsics`` and ``split``. 3DOH50K has no gender: meshes use the neutral model.

    Args:
        **kwargs: see :class:`SPINNpzDataset`.
    """

    METAINFO: dict = dict(dataset_name='3doh')
