"""EMDB (Kaufmann et al., ICCV 2023), from the file written by the EMDB converter."""
from mmpose.registry import DATASETS

from .spin_npz_dataset import SPINNpzDataset


@DATASETS.register_module()
class EMDBDataset(SPINNpzDataset):
    """EMDB samples, one per good frame of a sequence of the converted split (``emdb_emdb1.npz``:
    EMDB 1, the test set of VQ-HPS and other single-image methods).

    Reads the ``.npz`` of ``tools/dataset_converters/emdb_converter.py``: SPIN keys (gendered
    SMPL in the camera frame, J24 2D, with a body model J24 3D) plus ``seq_name``,
    ``frame_id``, ``cam_intrinsics``, ``split``. Arguments: see :class:`SPINNpzDataset`.
    """

    METAINFO: dict = dict(dataset_name='emdb')
