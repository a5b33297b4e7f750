"""Keypoint layouts of the source formats and their mapping to COCO-17 / J24.

The plugin's joint sets (J24, COCO-17 …) live in :mod:`postometro_mm.body_models.joint_sets`;
this module only knows the layouts that annotation files arrive in.

- OpenPose-18 ("COCO-18"), used by 3DPW's ``poses2d``: nose, neck, r_shoulder, r_elbow,
  r_wrist, l_shoulder, l_elbow, l_wrist, r_hip, r_knee, r_ankle, l_hip, l_knee, l_ankle,
  r_eye, l_eye, r_ear, l_ear.
- LSP-14, used by 3DOH50K's ``lsp_joints_2d``: the first 14 joints of J24 in the same order.
"""
import re
from typing import Tuple

import numpy as np

from postometro_mm.body_models.joint_sets import J24_TO_COCO17

#: COCO-17 joint k is OpenPose-18 joint ``OPENPOSE18_TO_COCO17[k]``.
OPENPOSE18_TO_COCO17 = np.array([0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10],
                                dtype=np.int64)

#: J24 joint ``LSP14_TO_J24[k]`` is LSP-14 joint k.
LSP14_TO_J24 = np.arange(14, dtype=np.int64)


def coco17_from_j24(joints_2d: np.ndarray) -> np.ndarray:
    """Pick COCO-17 keypoints (…, 17, C) out of J24 keypoints (…, 24, C)."""
    return np.asarray(joints_2d)[..., J24_TO_COCO17, :]


def j24_from_coco17(keypoints: np.ndarray) -> np.ndarray:
    """Scatter COCO-17 keypoints (…, 17, C) into J24 slots (…, 24, C); other slots are zero.

    The last channel is expected to be a confidence, so the unfilled joints are invisible.
    """
    keypoints = np.asarray(keypoints)
    out = np.zeros(keypoints.shape[:-2] + (24, keypoints.shape[-1]), dtype=keypoints.dtype)
    out[..., J24_TO_COCO17, :] = keypoints
    return out


_FRAME_DIGITS = re.compile(r'(\d+)$')


def seq_and_frame_from_imgname(imgname: str) -> Tuple[str, int]:
    """Sequence name and frame index encoded in an image path, SPIN/METRO style.

    ``'imageFiles/courtyard_arguing_00/image_00012.jpg'`` → ``('courtyard_arguing_00', 12)``.
    The sequence is the parent folder ('' for a bare file name); the frame is the trailing
    number of the file stem (-1 if there is none).
    """
    parts = re.split(r'[\\/]', str(imgname))
    seq_name = parts[-2] if len(parts) > 1 else ''
    stem = parts[-1].rsplit('.', 1)[0]
    match = _FRAME_DIGITS.search(stem)
    return seq_name, int(match.group(1)) if match else -1
