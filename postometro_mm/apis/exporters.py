"""Predictions of one image as JSON-ready records and as mesh files per person."""
from typing import List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from mmpose.structures import PoseDataSample
from ..body_models.joint_sets import COCO17_NAMES, J14_NAMES
from .mesh_io import save_obj, save_ply

MESH_FORMATS = ('obj', 'ply')
MESH_SPACES = ('camera', 'root')

#: What the record fields mean (written once at the top of the demo's JSON files).
RECORD_LEGEND = dict(
    units='metres for 3D, pixels of the original image for 2D',
    axes='OpenCV camera frame: x right, y down, z forward',
    keypoints_3d=f'J14 joints regressed from the mesh, root-relative: {list(J14_NAMES)}',
    keypoints_2d='the same J14 joints projected into the image',
    decoded_keypoints=f'COCO-17 pose decoded from the pose tokens: {list(COCO17_NAMES)}',
    camera='weak-perspective (s, tx, ty) of the crop: x_n = s * (X + t) in [-1, 1] crop '
    'coordinates',
    camera_translation='translation of the root-relative mesh into the full-image pinhole '
    'camera (focal_length, principal_point); null if the predicted scale s <= 0')


def _list(value: np.ndarray, decimals: int) -> list:
    return np.round(np.asarray(value, dtype=np.float64), decimals).tolist()


def prediction_records(data_sample: PoseDataSample) -> dict:
    """JSON-ready predictions of one image (merged data sample of :class:`MeshInferencer`).

    Returns:
        dict: ``image_size`` [W, H], ``focal_length``, ``principal_point`` and ``people``: per
        person ``bbox`` (xyxy), ``bbox_score``, ``camera``, ``camera_translation`` (or None),
        ``keypoints_3d`` (14 × 3), ``keypoints_2d`` (14 × 2) and, when predicted,
        ``decoded_keypoints`` (17 × 2). See :data:`RECORD_LEGEND`.
    """
    meta = data_sample.metainfo
    pred = data_sample.get('pred_instances')
    people = []
    for i in range(0 if pred is None else len(pred)):
        transl = np.asarray(pred.camera_translation[i], dtype=np.float64)
        person = dict(
            bbox=_list(pred.bboxes[i], 2), bbox_score=round(float(pred.bbox_scores[i]), 4),
            camera=_list(pred.camera[i], 6),
            camera_translation=_list(transl, 5) if np.all(np.isfinite(transl)) else None,
            keypoints_3d=_list(pred.keypoints_3d[i], 5),
            keypoints_2d=_list(pred.keypoints[i], 2))
        if 'decoded_keypoints' in pred:
            person['decoded_keypoints'] = _list(pred.decoded_keypoints[i], 2)
        people.append(person)
    height, width = meta['ori_shape'][:2]
    return dict(image_size=[int(width), int(height)],
                focal_length=round(float(meta['focal_length']), 3),
                principal_point=_list(meta['principal_point'], 3), people=people)


def save_person_meshes(data_sample: PoseDataSample, faces: np.ndarray, prefix: str,
                       formats: Sequence[str] = ('obj', ), space: str = 'camera'
                       ) -> List[Optional[List[str]]]:
    """Write one mesh file per person and format: ``<prefix>_person<k>.<format>``.

    Args:
        data_sample (PoseDataSample): merged predictions of one image.
        faces (np.ndarray): (F, 3) faces.
        prefix (str): path prefix (folder must exist).
        formats (Sequence[str]): subset of :data:`MESH_FORMATS`.
        space (str): 'camera' = ``vertices + camera_translation`` (people placed in the
            full-image camera, so a scene with several people loads as it was seen);
            'root' = the root-relative vertices as predicted.

    Returns:
        list: per person the written paths, or None for a person that could not be placed
        in the camera (predicted scale s <= 0; a message is logged).
    """
    unknown = set(formats) - set(MESH_FORMATS)
    if unknown or space not in MESH_SPACES:
        raise ValueError(f'mesh formats must be in {MESH_FORMATS} and space in {MESH_SPACES}, '
                         f'got {list(formats)} and {space!r}')
    pred = data_sample.pred_instances
    written: List[Optional[List[str]]] = []
    for i in range(len(pred)):
        vertices = np.asarray(pred.vertices[i], dtype=np.float64)
        if space == 'camera':
            transl = np.asarray(pred.camera_translation[i], dtype=np.float64)
            if not np.all(np.isfinite(transl)):
                print_log(f'{prefix}: person {i} has a non-positive camera scale; its mesh '
                          'cannot be placed in the camera and is not written',
                          logger='current')
                written.append(None)
                continue
            vertices = vertices + transl
        paths = []
        for fmt in formats:
            path = f'{prefix}_person{i:02d}.{fmt}'
            (save_obj if fmt == 'obj' else save_ply)(path, vertices.astype(np.float32), faces)
            paths.append(path)
        written.append(paths)
    return written
