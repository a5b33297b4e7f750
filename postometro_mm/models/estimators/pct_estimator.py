"""PCT (Pose Compositional Tokens) as an MMPose 1.x top-down estimator, plus the pose-token API
that PostoMETRO consumes."""
from typing import Dict, List, Optional

from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.models.pose_estimators.base import BasePoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import (ConfigType, OptConfigType, OptMultiConfig, PixelDataList,
                                 SampleList)


@MODELS.register_module()
class PCTPoseEstimator(TopdownPoseEstimator):
    """PCT pose estimator (Geng et al., CVPR 2023): SwinV2 backbone + :class:`PCTHead`.

    Trains and evaluates stage 1 (``head.stage='tokenizer'``) or stage 2
    (``head.stage='classifier'``) with MMEngine's Runner. The backbone runs only when the head
    needs image features: always in stage 2, in stage 1 only with image guidance
    (``guide_ratio > 0``). An unguided stage-1 model may be built with ``backbone=None``.

    For PostoMETRO it exposes :meth:`tokenize` (predicted pose tokens of an image),
    :meth:`tokens_from_logits` (pose tokens of given, e.g. perturbed, token logits) and
    :meth:`encode_keypoints` (ground-truth pose tokens of a 2D pose).

    Args:
        backbone (dict, optional): backbone config (:class:`PCTSwinV2`); ``None`` only for an
            unguided stage-1 model.
        head (dict): :class:`PCTHead` config.
        frozen (bool): freeze the whole model: eval mode, ``requires_grad=False``, and
            :meth:`train` keeps it in eval mode. Default ``True`` (PostoMETRO's use; the PCT
            training configs set ``False``).
        train_cfg, test_cfg, data_preprocessor, init_cfg, metainfo: as in
            :class:`mmpose.models.TopdownPoseEstimator`; ``test_cfg.flip_test`` averages with
            the mirrored image.
    """

    def __init__(self, head: ConfigType, backbone: OptConfigType = None, frozen: bool = True,
                 train_cfg: OptConfigType = None, test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None, init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None) -> None:
        if backbone is not None:
            super().__init__(backbone=backbone, head=head, train_cfg=train_cfg,
                             test_cfg=test_cfg, data_preprocessor=data_preprocessor,
                             init_cfg=init_cfg, metainfo=metainfo)
        else:
            # MMPose's estimators always build a backbone; mirror their set-up without one.
            BaseModel.__init__(self, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
            self.metainfo = BasePoseEstimator._load_metainfo(metainfo)
            self.backbone = None
            self.head = MODELS.build(head)
            self.head.test_cfg = dict(test_cfg) if test_cfg else {}
            self.train_cfg = train_cfg if train_cfg else {}
            self.test_cfg = test_cfg if test_cfg else {}
            self._register_load_state_dict_pre_hook(self._load_state_dict_pre_hook)
            if self.head.needs_image_features:
                raise ValueError('PCTPoseEstimator: backbone=None is only possible for a stage-1 '
                                 'model without image guidance (head.tokenizer.guide_ratio=0); '
                                 f'this head has stage={self.head.stage!r}, '
                                 f'guide_ratio={self.head.tokenizer.guide_ratio}')
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)
            self.eval()

    def train(self, mode: bool = True) -> 'PCTPoseEstimator':
        """Set the mode; a frozen estimator always stays in eval mode."""
        return super().train(mode and not self.frozen)

    def extract_feat(self, inputs: Tensor) -> tuple:
        """Backbone features (B, C, H/32, W/32) as a tuple (run once per call)."""
        if self.backbone is None:
            raise RuntimeError('PCTPoseEstimator: this model has no backbone (unguided stage 1)')
        return self.backbone(inputs)

    def _head_feats(self, inputs: Tensor) -> Optional[tuple]:
        return self.extract_feat(inputs) if self.head.needs_image_features else None

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Stage losses of :class:`PCTHead` (ground truth read from ``data_samples``)."""
        return self.head.loss(self._head_feats(inputs), data_samples, train_cfg=self.train_cfg)

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """Predict keypoints (original-image px) into ``pred_instances``."""
        feats = self._head_feats(inputs)
        if self.test_cfg.get('flip_test', False):
            feats = [feats, self._head_feats(inputs.flip(-1))]
        preds = self.head.predict(feats, data_samples, test_cfg=self.test_cfg)
        return self.add_pred_to_datasample(preds, None, data_samples)

    def add_pred_to_datasample(self, batch_pred_instances: List[InstanceData],
                               batch_pred_fields: Optional[PixelDataList],
                               batch_data_samples: SampleList) -> SampleList:
        """Attach predictions; :class:`PCTHead` already maps keypoints to the original image,
        so only ``keypoints_visible`` (= scores, as in MMPose) and the boxes and box scores of
        ``gt_instances`` are added."""
        for pred, sample in zip(batch_pred_instances, batch_data_samples):
            if 'keypoints_visible' not in pred:
                pred.keypoints_visible = pred.keypoint_scores
            gt = sample.gt_instances
            for key in ('bboxes', 'bbox_scores'):
                if key in gt:
                    pred.set_field(gt.get(key), key)
            sample.pred_instances = pred
        return batch_data_samples

    def tokenize(self, inputs: Tensor, decode: bool = False) -> Dict[str, Tensor]:
        """Pose tokens of images (stage-2 model); the backbone runs once.

        Args:
            inputs (Tensor): (B, 3, H, W) normalised RGB crops (e.g. 256×256).
            decode (bool): also decode 2D keypoints with the tokenizer decoder (skipped
                otherwise).

        Returns:
            dict: :meth:`tokens_from_logits` of the classifier's logits, plus those ``logits``
            (B, N, V). PCT-Base: N=34, D=512, V=2048, K=17.
        """
        if self.head.stage != 'classifier':
            raise RuntimeError('PCTPoseEstimator.tokenize needs a stage-2 (classifier) model, '
                               f'got head.stage={self.head.stage!r}')
        logits = self.head.forward(self.extract_feat(inputs))
        return dict(self.tokens_from_logits(logits, decode=decode), logits=logits)

    def tokens_from_logits(self, logits: Tensor, decode: bool = False) -> Dict[str, Tensor]:
        """Pose tokens of token logits, e.g. the ``logits`` of :meth:`tokenize` after a
        perturbation (PostoMETRO Appendix C adds Gaussian noise to them).

        Args:
            logits (Tensor): (B, N, V) token logits over the V codebook entries.
            decode (bool): also decode 2D keypoints from ``pose_feats``.

        Returns:
            dict: ``pose_feats`` (B, N, D) = softmax(logits) @ codebook (detached),
            ``pose_scores`` (B, N, 1) = max raw logit per token (not a probability) and, if
            ``decode``, ``keypoints`` (B, K, 2) in crop pixels.
        """
        return self.head.tokens_from_logits(logits, decode=decode)

    def encode_keypoints(self, keypoints: Tensor, keypoints_visible: Tensor,
                         inputs: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Ground-truth pose tokens of 2D poses through the tokenizer encoder.

        Args:
            keypoints (Tensor): (B, K, 2) crop pixels.
            keypoints_visible (Tensor): (B, K), > 0 = visible.
            inputs (Tensor, optional): (B, 3, H, W) normalised crops; used (and required) only
                when the tokenizer is image-guided.

        Returns:
            dict: ``pose_feats`` (B, N, D) quantised codes and ``indices`` (B, N) int64.
        """
        feats = None
        if self.head.guided:
            if inputs is None:
                raise ValueError('PCTPoseEstimator.encode_keypoints: the tokenizer is '
                                 'image-guided; pass the images as `inputs`')
            feats = self.extract_feat(inputs)
        return self.head.encode_keypoints(keypoints, keypoints_visible, feats)
