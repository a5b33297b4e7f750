"""VQ-HPS as an MMPose top-down estimator: a pose backbone for the mesh tokens, a second
backbone for the global rotation and camera, and :class:`VQHPSHead`."""
from typing import List, Optional, Sequence, Tuple

from mmengine.structures import InstanceData
from torch import Tensor

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig, SampleList
from .mesh_estimator import attach_predictions


def _last_map(feats) -> Tensor:
    """The last (lowest-resolution) map of a backbone's outputs."""
    return feats[-1] if isinstance(feats, (list, tuple)) else feats


@MODELS.register_module()
class VQHPSEstimator(TopdownPoseEstimator):
    """VQ-HPS (Fiche et al., ECCV 2024) on crops of one person.

    ``backbone`` (e.g. mmpose's ResNet-50) feeds the head's token transformer,
    ``rotation_backbone`` (a second network of the same kind, as in the reference) its rotation
    and camera branch; each gives its last output map. Predictions follow the plugin's
    contract (see :meth:`VQHPSHead.predict`), so :class:`MeshMetric`, the visualizer, the
    inference API and the demo take VQ-HPS configs as they take PostoMETRO's.

    Args:
        backbone (dict): pose backbone config.
        rotation_backbone (dict): rotation backbone config.
        head (dict): :class:`VQHPSHead` config.
        train_cfg, test_cfg, data_preprocessor, init_cfg, metainfo: as
            :class:`TopdownPoseEstimator` (``test_cfg.flip_test`` is not supported).
    """

    def __init__(self,
                 backbone: ConfigType,
                 rotation_backbone: ConfigType,
                 head: ConfigType,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None) -> None:
        super().__init__(backbone=backbone, head=head, train_cfg=train_cfg, test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg,
                         metainfo=metainfo)
        self.rotation_backbone = MODELS.build(rotation_backbone)

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        """(pose map (B, C, h, w), rotation map (B, C', h', w')) of (B, 3, H, W) crops."""
        return _last_map(self.backbone(inputs)), _last_map(self.rotation_backbone(inputs))

    def _forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None) -> dict:
        """'tensor' mode: the head's raw outputs (see :meth:`VQHPSHead.forward`)."""
        feats, rot_feats = self.extract_feat(inputs)
        return self.head.forward((feats, ), rot_feats)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        feats, rot_feats = self.extract_feat(inputs)
        return self.head.loss((feats, ), rot_feats, data_samples, train_cfg=self.train_cfg)

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        if self.test_cfg.get('flip_test', False):
            raise ValueError('VQHPSEstimator: test_cfg.flip_test is not supported for meshes')
        feats, rot_feats = self.extract_feat(inputs)
        preds = self.head.predict((feats, ), rot_feats, data_samples, test_cfg=self.test_cfg)
        return self.add_pred_to_datasample(preds, None, data_samples)

    def add_pred_to_datasample(self, batch_pred_instances: List[InstanceData],
                               batch_pred_fields: Optional[Sequence],
                               batch_data_samples: SampleList) -> SampleList:
        """See :func:`attach_predictions`."""
        return attach_predictions(batch_pred_instances, batch_data_samples, type(self).__name__)
