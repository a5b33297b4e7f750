"""Top-down mesh estimator: CNN backbone + (frozen pose tokenizer → pose modulator) + mesh head."""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.structures import InstanceData
from torch import Tensor

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig, SampleList
from ..heads.mesh_head_utils import crop_fractions_to_image_px

POSE_TOKEN_SOURCES = ('pct', 'gt_keypoints', 'raw_keypoints', 'none')
#: sources whose tokens come from the tokenizer's prediction, so a 2D pose can be decoded
DECODABLE_SOURCES = ('pct', 'raw_keypoints')
GT_TOKEN_SCORE = 10.0  # paper Table 6: ground-truth tokens get a fixed, confident score


@MODELS.register_module()
class MeshEstimator(TopdownPoseEstimator):
    """PostoMETRO / FastMETRO as an MMPose top-down estimator.

    ``backbone`` (any mmpose backbone) → the feature map at ``backbone_out_index`` → ``head``.
    Pose tokens (when ``pose_token_source != 'none'``) come from the frozen ``pose_tokenizer``
    (PCT) or from keypoints, pass the ``neck`` (:class:`PoseTokenModulator`) and enter the head.
    Unlike mmpose's convention the neck does not process backbone features.

    Backbone output: mmpose's ResNet returns one map per ``out_indices`` (default (3,), stride
    32); mmpose's HRNet returns the stage-4 branches only with
    ``extra.stage4.multiscale_output=True`` (else just the highest-resolution branch). The default
    ``backbone_out_index=-1`` takes the last output: ResNet's stage 4 and HRNet's
    lowest-resolution branch (8×8 for a 256 crop), as PostoMETRO does.

    Pose-token sources:
      * ``'pct'`` (default): ``pose_tokenizer.tokenize(inputs)`` → (B, 34, 512) features and
        (B, 34, 1) scores (max raw logit). ``logit_noise_std > 0`` adds Gaussian noise to the
        classifier logits at test time (paper Appendix C).
      * ``'gt_keypoints'``: ground-truth COCO-17 keypoints (``gt_instance_labels.keypoints``,
        crop px) through the tokenizer's encoder, score fixed at 10 (paper Table 6).
      * ``'raw_keypoints'``: COCO-17 coordinates normalised to [-1, 1] over the crop as 17 tokens
        with their visibility as score (paper Table 11; neck with ``in_channels=2,
        num_tokens=17``). Keypoints come from the tokenizer's decoded 2D pose when a
        ``pose_tokenizer`` is set (score 1), otherwise from the ground truth.
      * ``'none'``: FastMETRO (no neck, head with ``with_pose_tokens=False``).

    The tokenizer stays in eval mode without gradients (paper; SPEC §1.2 quirk 2).

    Decoded 2D pose (paper Fig. 3 b): with ``test_cfg=dict(output_decoded_pose=True)``,
    :meth:`predict` also stores the COCO-17 pose that the tokenizer's decoder recovers from
    the pose tokens the head consumed, as ``pred_instances.decoded_keypoints`` (1, 17, 2)
    float32 in original-image pixels (through the metainfo ``input_center`` and
    ``input_scale`` of the crop). The tokenizer's backbone and classifier run once; only its
    small decoder is added (SPEC §1.2 quirk 5: skipped otherwise). With
    ``logit_noise_std > 0`` the pose is decoded from the perturbed tokens the head sees.
    Available when :attr:`can_decode_pose` (a ``pose_tokenizer`` and source ``'pct'`` or
    ``'raw_keypoints'``, whose keypoints are the decoded ones).

    Args:
        backbone (dict): backbone config.
        head (dict): ``PostoMETROHead`` config.
        neck (dict, optional): ``PoseTokenModulator`` config (required unless source 'none').
        pose_tokenizer (dict, optional): ``PCTPoseEstimator`` config.
        pose_token_source (str): one of ``POSE_TOKEN_SOURCES``. Defaults to 'pct'.
        logit_noise_std (float): std of the test-time logit noise. Defaults to 0.
        backbone_out_index (int): which backbone output feeds the head. Defaults to -1.
        train_cfg, data_preprocessor, init_cfg, metainfo: as :class:`TopdownPoseEstimator`.
        test_cfg (dict, optional): ``output_decoded_pose`` (bool, default False), see above;
            ``flip_test`` is not supported.
    """

    def __init__(self,
                 backbone: ConfigType,
                 head: ConfigType,
                 neck: OptConfigType = None,
                 pose_tokenizer: OptConfigType = None,
                 pose_token_source: str = 'pct',
                 logit_noise_std: float = 0.0,
                 backbone_out_index: int = -1,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None) -> None:
        if pose_token_source not in POSE_TOKEN_SOURCES:
            raise ValueError(f'MeshEstimator: pose_token_source must be one of '
                             f'{POSE_TOKEN_SOURCES}, got {pose_token_source!r}')
        if (neck is None) != (pose_token_source == 'none'):
            raise ValueError(f'MeshEstimator: pose_token_source={pose_token_source!r} '
                             f'{"needs" if neck is None else "takes no"} neck '
                             '(the PoseTokenModulator)')
        if pose_tokenizer is None and pose_token_source in ('pct', 'gt_keypoints'):
            raise ValueError(f'MeshEstimator: pose_token_source={pose_token_source!r} needs a '
                             'pose_tokenizer config (PCTPoseEstimator)')
        if logit_noise_std < 0 or (logit_noise_std and pose_token_source != 'pct'):
            raise ValueError(f'MeshEstimator: logit_noise_std={logit_noise_std} must be >= 0 '
                             "and is only used with pose_token_source='pct'")
        super().__init__(backbone=backbone, neck=neck, head=head, train_cfg=train_cfg,
                         test_cfg=test_cfg, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg, metainfo=metainfo)
        self.pose_token_source = pose_token_source
        self.logit_noise_std = logit_noise_std
        self.backbone_out_index = backbone_out_index
        self.pose_tokenizer = None
        if pose_tokenizer is not None:
            self.pose_tokenizer = MODELS.build(pose_tokenizer)
            self.pose_tokenizer.requires_grad_(False)
            self.pose_tokenizer.eval()
        self._check_decoded_pose_option()

    @property
    def can_decode_pose(self) -> bool:
        """Whether ``test_cfg.output_decoded_pose`` is possible: the pose tokens come from the
        pose tokenizer's prediction (source 'pct' or 'raw_keypoints' with a tokenizer)."""
        return self.pose_tokenizer is not None and self.pose_token_source in DECODABLE_SOURCES

    def _check_decoded_pose_option(self) -> bool:
        """``test_cfg.output_decoded_pose``, validated against :attr:`can_decode_pose`."""
        wanted = bool(self.test_cfg.get('output_decoded_pose', False))
        if wanted and not self.can_decode_pose:
            raise ValueError(
                'MeshEstimator: test_cfg.output_decoded_pose=True needs a pose_tokenizer and '
                f'pose_token_source in {DECODABLE_SOURCES}; got pose_token_source='
                f'{self.pose_token_source!r} and '
                f'{"a" if self.pose_tokenizer is not None else "no"} pose_tokenizer')
        return wanted

    def train(self, mode: bool = True) -> 'MeshEstimator':
        """Switch mode; the frozen pose tokenizer always stays in eval mode."""
        super().train(mode)
        if self.pose_tokenizer is not None:
            self.pose_tokenizer.eval()
        return self

    # ------------------------------------------------------------------ features
    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor]:
        """Backbone feature map at ``backbone_out_index``, as a 1-tuple of (B, C, h, w)."""
        feats = self.backbone(inputs)
        if isinstance(feats, (list, tuple)):
            feats = feats[self.backbone_out_index]
        return (feats, )

    def extract_pose_tokens(self, inputs: Tensor,
                            data_samples: Optional[SampleList] = None,
                            return_decoded_pose: bool = False
                            ) -> Union[Optional[Tensor], Tuple[Tensor, Tensor]]:
        """Pose tokens (B, N, C) for the head, or None for ``pose_token_source='none'``.

        The token source runs without gradients; the neck (pose modulator) trains.

        Args:
            inputs (Tensor): (B, 3, H, W) normalised crops.
            data_samples (list[PoseDataSample], optional): needed by the ground-truth sources.
            return_decoded_pose (bool): also return the 2D pose decoded from the same tokens
                (needs :attr:`can_decode_pose`).

        Returns:
            Tensor | None: the pose tokens; with ``return_decoded_pose`` a tuple of them and
            the decoded COCO-17 pose (B, 17, 2) as fractions [0, 1] of the crop width and
            height.
        """
        if return_decoded_pose and not self.can_decode_pose:
            raise ValueError('MeshEstimator: the decoded 2D pose needs a pose_tokenizer and '
                             f'pose_token_source in {DECODABLE_SOURCES}, got '
                             f'{self.pose_token_source!r}')
        if self.pose_token_source == 'none':
            return None
        with torch.no_grad():
            feats, scores = self._token_source(inputs, data_samples)
            fractions = self._decoded_pose_fractions(feats) if return_decoded_pose else None
        tokens = self.neck(feats.float(), scores.float())
        return (tokens, fractions) if return_decoded_pose else tokens

    def _decoded_pose_fractions(self, token_feats: Tensor) -> Tensor:
        """The tokenizer's decoded 2D pose of the source's token features, as fractions of
        the crop (B, K, 2). 'pct': the features are softmax(logits) @ codebook, decoded as
        :meth:`PCTPoseEstimator.tokens_from_logits` does; 'raw_keypoints': they are the
        decoded keypoints already, normalised to [-1, 1]."""
        if self.pose_token_source == 'raw_keypoints':
            return (token_feats.float() + 1.0) / 2.0
        head = self.pose_tokenizer.head
        keypoints = head.tokenizer.decode(token_feats)
        return keypoints.float() / keypoints.new_tensor(head.input_size[:2]).float()

    def _token_source(self, inputs: Tensor, data_samples: Optional[SampleList]
                      ) -> Tuple[Tensor, Tensor]:
        """Token features (B, N, C_in) and scores (B, N, 1) of the configured source."""
        source = self.pose_token_source
        if source == 'pct':
            out = self.pose_tokenizer.tokenize(inputs)
            if self.logit_noise_std > 0 and not self.training:
                # Paper Appendix C: robustness to a degraded tokenizer.
                logits = out['logits']
                out = self.pose_tokenizer.tokens_from_logits(
                    logits + self.logit_noise_std * torch.randn_like(logits))
            return out['pose_feats'], out['pose_scores']
        if source == 'gt_keypoints':
            keypoints, visible = self._gt_keypoints(data_samples, inputs.device)
            feats = self.pose_tokenizer.encode_keypoints(keypoints, visible,
                                                         inputs=inputs)['pose_feats']
            return feats, feats.new_full((*feats.shape[:2], 1), GT_TOKEN_SCORE)
        if self.pose_tokenizer is not None:
            keypoints = self.pose_tokenizer.tokenize(inputs, decode=True)['keypoints']
            visible = keypoints.new_ones(keypoints.shape[:2])
        else:
            keypoints, visible = self._gt_keypoints(data_samples, inputs.device)
        size = keypoints.new_tensor([inputs.shape[3], inputs.shape[2]])
        return keypoints / size * 2.0 - 1.0, visible[..., None]

    def _gt_keypoints(self, data_samples: Optional[SampleList],
                      device: torch.device) -> Tuple[Tensor, Tensor]:
        if not data_samples:
            raise ValueError(f'MeshEstimator: pose_token_source={self.pose_token_source!r} '
                             'reads ground-truth keypoints: pass data_samples')
        labels = [ds.gt_instance_labels for ds in data_samples]
        for key in ('keypoints', 'keypoints_visible'):
            if key not in labels[0]:
                raise KeyError(f'MeshEstimator: gt_instance_labels lacks "{key}" needed by '
                               f'pose_token_source={self.pose_token_source!r}')
        keypoints = torch.cat([torch.as_tensor(lb.keypoints) for lb in labels]).to(device)
        visible = torch.cat([torch.as_tensor(lb.keypoints_visible) for lb in labels]).to(device)
        return keypoints.float(), visible.float()

    # ------------------------------------------------------------------ modes
    def forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None,
                mode: str = 'tensor'):
        """As :meth:`BasePoseEstimator.forward`; 'tensor' mode also receives the data samples
        (the ground-truth pose-token sources read keypoints from them)."""
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    def _forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None) -> dict:
        """'tensor' mode: the head's raw outputs (see :meth:`PostoMETROHead.forward`)."""
        return self.head.forward(self.extract_feat(inputs),
                                 self.extract_pose_tokens(inputs, data_samples))

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        feats = self.extract_feat(inputs)
        pose_tokens = self.extract_pose_tokens(inputs, data_samples)
        return self.head.loss(feats, data_samples, train_cfg=self.train_cfg,
                              pose_tokens=pose_tokens)

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        if self.test_cfg.get('flip_test', False):
            raise ValueError('MeshEstimator: test_cfg.flip_test is not supported for meshes')
        decode = self._check_decoded_pose_option()
        feats = self.extract_feat(inputs)
        pose_tokens = self.extract_pose_tokens(inputs, data_samples,
                                               return_decoded_pose=decode)
        if decode:
            pose_tokens, fractions = pose_tokens
        preds = self.head.predict(feats, data_samples, test_cfg=self.test_cfg,
                                  pose_tokens=pose_tokens)
        if decode:
            add_decoded_pose(preds, fractions.cpu().numpy(), data_samples)
        return self.add_pred_to_datasample(preds, None, data_samples)

    def add_pred_to_datasample(self, batch_pred_instances: List[InstanceData],
                               batch_pred_fields: Optional[Sequence],
                               batch_data_samples: SampleList) -> SampleList:
        """See :func:`attach_predictions`."""
        return attach_predictions(batch_pred_instances, batch_data_samples, type(self).__name__)


def add_decoded_pose(preds: List[InstanceData], fractions: np.ndarray,
                     data_samples: SampleList) -> None:
    """Set ``decoded_keypoints`` (1, K, 2) original-image px of every prediction from crop
    fractions (B, K, 2) (:func:`crop_fractions_to_image_px`)."""
    for pred, fraction, data_sample in zip(preds, fractions, data_samples):
        pred.decoded_keypoints = crop_fractions_to_image_px(fraction, data_sample.metainfo,
                                                            'add_decoded_pose')[None]


def attach_predictions(batch_pred_instances: List[InstanceData], batch_data_samples: SampleList,
                       owner: str) -> SampleList:
    """Store a head's per-sample predictions as ``pred_instances`` (numpy), adding the
    ground-truth ``bbox`` as ``bboxes`` when present (for mmpose's visualizer).

    Args:
        batch_pred_instances: one ``InstanceData`` per sample.
        batch_data_samples: the samples, updated in place and returned.
        owner: the estimator's name, for the error message.
    """
    if len(batch_pred_instances) != len(batch_data_samples):
        raise ValueError(f'{owner}: {len(batch_pred_instances)} predictions for '
                         f'{len(batch_data_samples)} data samples')
    for pred_instances, data_sample in zip(batch_pred_instances, batch_data_samples):
        gt_instances = data_sample.get('gt_instances', None)
        if gt_instances is not None and 'bbox' in gt_instances:
            pred_instances.bboxes = gt_instances.bbox
        data_sample.pred_instances = pred_instances
    return batch_data_samples
