"""Record selection by sequence and frame, and the 3DPW evaluation subsets (SPEC §4.5).

The subset definitions are shared by the 3DPW converter and :class:`PW3DDataset`:

- OCC: frames of sequences whose base name (sequence name without its ``_NN`` take number) is
  one of :data:`PW3D_OCC_SEQUENCES`, across the train, validation and test splits (ROMP's
  definition, used by PARE-style evaluation).
- PC: the person-crowded frame ranges :data:`PW3D_PC_FRAME_RANGES`, half-open
  ``[start, end)`` in image-frame indices, as ROMP selects them.
"""
import re
from typing import Dict, Sequence, Tuple

import numpy as np

PW3D_OCC_SEQUENCES: Tuple[str, ...] = (
    'courtyard_backpack', 'courtyard_basketball', 'courtyard_bodyScannerMotions',
    'courtyard_box', 'courtyard_golf', 'courtyard_jacket', 'courtyard_laceShoe',
    'downtown_stairs', 'flat_guitar', 'flat_packBags', 'outdoors_climbing',
    'outdoors_crosscountry', 'outdoors_fencing', 'outdoors_freestyle', 'outdoors_golf',
    'outdoors_parcours', 'outdoors_slalom')

PW3D_PC_FRAME_RANGES: Dict[str, Tuple[int, int]] = {
    'courtyard_basketball_00': (200, 280),
    'courtyard_captureSelfies_00': (500, 600),
    'courtyard_dancing_00': (60, 370),
    'courtyard_dancing_01': (60, 270),
    'courtyard_hug_00': (100, 500),
    'downtown_bus_00': (1620, 1900),
}

_TAKE_SUFFIX = re.compile(r'_\d+$')


def sequence_base_name(seq_name: str) -> str:
    """``'courtyard_box_00'`` → ``'courtyard_box'`` (drops the trailing take number)."""
    return _TAKE_SUFFIX.sub('', str(seq_name))


def sequence_mask(seq_names: Sequence[str], base_names: Sequence[str]) -> np.ndarray:
    """Boolean mask of records whose sequence base name is one of ``base_names``."""
    wanted = set(base_names)
    return np.array([sequence_base_name(s) in wanted for s in seq_names], dtype=bool)


def frame_range_mask(seq_names: Sequence[str], frame_ids: Sequence[int],
                     frame_ranges: Dict[str, Sequence[int]]) -> np.ndarray:
    """Boolean mask of records with ``start <= frame_id < end`` for their sequence's range.

    Records of sequences without a range are excluded.
    """
    mask = np.zeros(len(seq_names), dtype=bool)
    for i, (seq, frame) in enumerate(zip(seq_names, frame_ids)):
        frame_range = frame_ranges.get(str(seq))
        if frame_range is not None:
            start, end = frame_range
            mask[i] = start <= int(frame) < end
    return mask
