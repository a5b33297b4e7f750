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


@TRANSFORMS.register_module()
class PackMeshInputs(BaseTransform):
    """Pack a cropped mesh sample for the model.

    Output ``dict(inputs, data_samples)``:

    - ``inputs``: (3, H, W) uint8 tensor, BGR as loaded (the data preprocessor converts).
    - ``data_samples.gt_instances`` (numpy): every key of :data:`MESH_INSTANCE_KEYS` present,
      plus ``bboxes`` (= ``bbox``) and ``bbox_scores`` (ones) for mmpose's estimator and
      visualizer.
    - ``data_samples.gt_instance_labels`` (float32 tensors unless noted): ``joints_2d``
      (1, 24, 3) = x, y normalised to [-1, 1] over the crop (:func:`normalize_crop_points`)
      + visibility; ``joints_3d`` (1, 24, 4) = metres + visibility; ``keypoints`` (1, 17, 2)
      crop px; ``keypoints_visible`` (1, 17); ``smpl_pose`` (1, 72); ``smpl_betas`` (1, 10);
      ``gender`` (1,) int64; ``has_smpl``, ``has_3d``, ``has_2d`` (1,).
    - metainfo: ``meta_keys`` present in the results (``flip`` defaults to False).

    Args:
        meta_keys (Sequence[str]): keys copied to the metainfo. Default
            :data:`MESH_META_KEYS`.
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
        gt_instances.bboxes = np.asarray(results['bbox'], dtype=np.float32)
        gt_instances.bbox_scores = np.ones(len(gt_instances.bboxes), dtype=np.float32)

        def f32(key: str) -> torch.Tensor:
            return torch.from_numpy(np.asarray(results[key], dtype=np.float32).copy())

        joints_2d = normalize_crop_points(results['joints_2d'], results['input_size'])
        labels = InstanceData()
        labels.joints_2d = torch.from_numpy(np.concatenate(
            [joints_2d, np.asarray(results['joints_2d_visible'], np.float32)[..., None]], -1))
        labels.joints_3d = torch.from_numpy(np.concatenate(
            [np.asarray(results['joints_3d'], np.float32),
             np.asarray(results['joints_3d_visible'], np.float32)[..., None]], -1))
        for key in ('keypoints', 'keypoints_visible', 'smpl_pose', 'smpl_betas', 'has_smpl',
                    'has_3d', 'has_2d'):
            labels.set_field(f32(key), key)
        labels.gender = torch.from_numpy(np.asarray(results['gender'], dtype=np.int64).copy())

        data_sample = PoseDataSample()
        data_sample.gt_instances = gt_instances
        data_sample.gt_instance_labels = labels
        metainfo = {key: results[key] for key in self.meta_keys if key in results}
        if 'flip' in self.meta_keys:
            metainfo.setdefault('flip', False)
        data_sample.set_metainfo(metainfo)
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
