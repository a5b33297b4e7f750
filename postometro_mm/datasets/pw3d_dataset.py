"""3DPW (von Marcard et al., ECCV 2018), from the file written by the 3DPW converter."""
from typing import Any, Dict, Optional

import numpy as np
from mmpose.registry import DATASETS

from .spin_npz_dataset import SPINNpzDataset
from .subsets import PW3D_OCC_SEQUENCES, PW3D_PC_FRAME_RANGES, frame_range_mask, sequence_mask

PW3D_SUBSETS = ('occ', 'pc', 'train', 'validation', 'test')


@DATASETS.register_module()
class PW3DDataset(SPINNpzDataset):
    """3DPW samples, one per (frame, person) with a valid camera pose.

    Reads the ``.npz`` written by ``tools/dataset_converters/pw3d_converter.py`` (SPIN keys
    plus ``coco_keypoints``, ``seq_name``, ``frame_id``, ``cam_intrinsics``, ``split``,
    gendered SMPL in the camera frame) and SPIN's own ``3dpw_test.npz``.

    Args:
        subset (str, optional): keep only 'occ' (3DPW-OCC sequences), 'pc' (3DPW-PC frame
            ranges) or the records of one official split ('train', 'validation', 'test';
            needs the converter's ``split`` key). See :mod:`postometro_mm.datasets.subsets`.
            The converter also writes each subset to its own file, which needs no filter.
        **kwargs: see :class:`SPINNpzDataset`.
    """

    METAINFO: dict = dict(dataset_name='3dpw')

    def __init__(self, ann_file: str = '', subset: Optional[str] = None, **kwargs) -> None:
        if subset is not None and subset not in PW3D_SUBSETS:
            raise ValueError(f'subset must be one of {PW3D_SUBSETS} or None, got {subset!r}')
        self.subset = subset
        super().__init__(ann_file=ann_file, **kwargs)

    def has_filters(self) -> bool:
        return self.subset is not None or super().has_filters()

    def _subset_mask(self, table: Dict[str, Any], num_records: int) -> np.ndarray:
        keep = super()._subset_mask(table, num_records)
        if self.subset == 'occ':
            keep &= sequence_mask(table['seq_name'], PW3D_OCC_SEQUENCES)
        elif self.subset == 'pc':
            keep &= frame_range_mask(table['seq_name'], table['frame_id'], PW3D_PC_FRAME_RANGES)
        elif self.subset is not None:
            if 'split' not in table:
                raise KeyError(
                    f'{self.ann_file}: subset={self.subset!r} needs the key "split" written by '
                    'the 3DPW converter; use the converter\'s per-split file instead')
            keep &= table['split'] == self.subset
        return keep
