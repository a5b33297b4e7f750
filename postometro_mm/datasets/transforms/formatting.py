"""Pack a transformed mesh sample into model inputs and a :class:`PoseDataSample`."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import InstanceData
from mmpose.registry import TRANSFORMS
from mmpose.structures import PoseDataSample

#: per-instance keys copied (numpy) into ``gt_instances``
MESH_INSTANCE_KEYS = ('bbox', 'bbox_center', 'bbox_scale', 'keypoints', 'keypoints_visible',
                      'joints_2d', 'joints_2d_visible', 'joints_3d', 'joints_3d_visible',
                      'smpl_pose', 'smpl_betas', 'gender', 'has_smpl', 'has_3d', 'has_2d',
                      'cam_intrinsics')

MESH_META_KEYS = ('id', 'img_path', 'dataset_name', 'seq_name', 'frame_id', 'input_size',
                  'input_center', 'input_scale', 'flip', 'ori_shape', 'img_shape')


def normalize_crop_points(points: np.ndarray, input_size: Sequence[int]) -> np.ndarray:
    """Crop pixels → [-1, 1]: ``x_n = 2 x / w − 1``, ``y_n = 2 y / h − 1``.

    The inverse (for predictions) is ``x = (x_n + 1) w / 2``.
    """
    size = np.asarray(input_size[:2], dtype=np.float32)
    return 2.0 * np.asarray(points, dtype=np.float32) / size - 1.0


#: ``gt_instance_labels`` packed as (value, visibility) pairs: label -> (value key, visibility key)
_LABELS_WITH_VISIBILITY = {'joints_2d': ('joints_2d', 'joints_2d_visible'),
                           'joints_3d': ('joints_3d', 'joints_3d_visible')}
#: ``gt_instance_labels`` packed unchanged as float32
_FLOAT_LABELS = ('keypoints', 'keypoints_visible', 'smpl_pose', 'smpl_betas', 'has_smpl',
                 'has_3d', 'has_2d')


@TRANSFORMS.register_module()
class PackMeshInputs(BaseTransform):
    """Pack a cropped mesh sample for the model, with or without training labels.

    Output ``dict(inputs, data_samples)``:

    - ``inputs``: (3, H, W) uint8 tensor, BGR as loaded (the data preprocessor converts).
    - ``data_samples.gt_instances`` (numpy): every key of :data:`MESH_INSTANCE_KEYS` present,
      plus, when ``bbox`` is present, ``bboxes`` (= ``bbox``) and ``bbox_scores`` (the
      results' ``bbox_score``, e.g. a detector's, else ones) for mmpose's estimator and
      visualizer.
    - ``data_samples.gt_instance_labels`` (float32 tensors unless noted), each label whose
      source keys are present: ``joints_2d`` (1, 24, 3) = x, y normalised to [-1, 1] over
      the crop (:func:`normalize_crop_points`) + visibility (needs ``joints_2d`` and
      ``joints_2d_visible``); ``joints_3d`` (1, 24, 4) = metres + visibility (needs
      ``joints_3d`` and ``joints_3d_visible``); ``keypoints`` (1, 17, 2) crop px;
      ``keypoints_visible`` (1, 17); ``smpl_pose`` (1, 72); ``smpl_betas`` (1, 10);
      ``gender`` (1,) int64; ``has_smpl``, ``has_3d``, ``has_2d`` (1,).
    - metainfo: ``meta_keys`` present in the results (``flip`` defaults to False).

    Training samples of the mesh datasets carry every label. At inference (only the image and
    a person box, e.g. ``LoadMeshImage``, ``GetBBoxCenterScale``, ``MeshTopdownAffine``) the
    same transform packs the image, the box and the crop metainfo and leaves
    ``gt_instance_labels`` empty; a loss that needs a missing label names it.

    Args:
        meta_keys (Sequence[str]): keys copied to the metainfo. Default
            :data:`MESH_META_KEYS`.

    Raises:
        KeyError: ``input_size`` is missing (no crop transform ran before), or only one of a
            label's value / visibility keys is present.
    """

    def __init__(self, meta_keys: Sequence[str] = MESH_META_KEYS) -> None:
        super().__init__()
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        if 'input_size' not in results:
            raise KeyError('PackMeshInputs needs "input_size": put MeshTopdownAffine before it')
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))

        gt_instances = InstanceData()
        for key in MESH_INSTANCE_KEYS:
            if key in results:
                gt_instances.set_field(np.asarray(results[key]), key)
        if 'bbox' in results:
            gt_instances.bboxes = np.asarray(results['bbox'], dtype=np.float32)
            gt_instances.bbox_scores = (
                np.asarray(results['bbox_score'], dtype=np.float32).reshape(-1)
                if 'bbox_score' in results else
                np.ones(len(gt_instances.bboxes), dtype=np.float32))

        data_sample = PoseDataSample()
        data_sample.gt_instances = gt_instances
        data_sample.gt_instance_labels = self._labels(results)
        metainfo = {key: results[key] for key in self.meta_keys if key in results}
        if 'flip' in self.meta_keys:
            metainfo.setdefault('flip', False)
        data_sample.set_metainfo(metainfo)
        return dict(inputs=inputs, data_samples=data_sample)

    @staticmethod
    def _labels(results: dict) -> InstanceData:
        """The training labels present in ``results`` as tensors (see the class doc)."""
        labels = InstanceData()
        for name, (key, vis_key) in _LABELS_WITH_VISIBILITY.items():
            if (key in results) != (vis_key in results):
                have, lack = (key, vis_key) if key in results else (vis_key, key)
                raise KeyError(f'PackMeshInputs: the sample has "{have}" but not "{lack}"; '
                               f'both are needed to pack the "{name}" label')
            if key not in results:
                continue
            values = np.asarray(results[key], np.float32)
            if name == 'joints_2d':
                values = normalize_crop_points(values, results['input_size'])
            visible = np.asarray(results[vis_key], np.float32)[..., None]
            labels.set_field(torch.from_numpy(np.concatenate([values, visible], -1)), name)
        for key in _FLOAT_LABELS:
            if key in results:
                labels.set_field(
                    torch.from_numpy(np.asarray(results[key], dtype=np.float32).copy()), key)
        if 'gender' in results:
            labels.gender = torch.from_numpy(np.asarray(results['gender'], dtype=np.int64).copy())
        return labels

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
