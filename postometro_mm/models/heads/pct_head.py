"""PCT's head: stage-1 tokenizer training or stage-2 token classification on MMPose 1.x."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import Tensor

from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptSampleList
from .pct_tokenizer import PCTTokenizer

Feats = Optional[Union[Tensor, Tuple[Tensor, ...]]]
STAGES = ('tokenizer', 'classifier')


def visible_smooth_l1(pred: Tensor, target: Tensor, visible: Tensor, beta: float) -> Tensor:
    """PCT's keypoint loss: smooth-L1 (``beta`` in pixels) weighted by visibility, averaged over
    all B·K·2 coordinates (invisible ones count as zero).

    Args:
        pred (Tensor): (B, K, 2) crop pixels.
        target (Tensor): (B, K, 2) crop pixels.
        visible (Tensor): (B, K) visibility weights.
    """
    loss = F.smooth_l1_loss(pred, target, reduction='none', beta=beta)
    return (loss * visible.unsqueeze(-1)).mean()


def flip_keypoints_horizontally(keypoints: Tensor, flip_indices: Sequence[int],
                                width: int) -> Tensor:
    """Mirror (B, K, 2) crop-pixel keypoints of an image of ``width`` px: swap left/right with
    ``flip_indices`` and map ``x → width - 1 - x`` (PCT's and MMPose's pixel convention)."""
    flipped = keypoints[:, list(flip_indices)].clone()
    flipped[..., 0] = width - 1 - flipped[..., 0]
    return flipped


def _shared_arg(cfg: dict, key: str, value, owner: str) -> None:
    """Set ``cfg[key] = value`` unless the config already holds a different value."""
    given = cfg.get(key, value)
    if (tuple(given) if isinstance(given, list) else given) != value:
        raise ValueError(f'PCTHead: {owner}.{key}={given!r} conflicts with the head\'s value '
                         f'{value!r}; set it on the head only')
    cfg[key] = value


@MODELS.register_module()
class PCTHead(BaseHead):
    """Head of Pose Compositional Tokens (Geng et al., CVPR 2023) for MMPose 1.x.

    - ``stage='tokenizer'`` (stage 1): ground-truth keypoints → :class:`PCTTokenizer` (EMA
      codebook) → reconstructed keypoints. Loss: ``loss_kpt`` = visibility-weighted smooth-L1
      (β = ``smooth_l1_beta`` px) and ``loss_latent`` = ``latent_loss_weight`` × latent MSE.
    - ``stage='classifier'`` (stage 2): backbone map → :class:`PCTClassifier` → token logits;
      the tokenizer is frozen (eval mode, no gradients) and gives the target token indices from
      the ground-truth keypoints. Loss: ``loss_token`` = cross-entropy, ``loss_kpt`` =
      smooth-L1 of the keypoints decoded from ``softmax(logits) @ codebook``; ``acc_token`` =
      top-1 token accuracy (logged, not optimised).

    What the head reads from each ``PoseDataSample`` (one instance per sample, MMPose's
    top-down pipeline ``LoadImage, GetBBoxCenterScale, TopdownAffine(input_size),
    PackPoseInputs(pack_transformed=True)``):

    - ``gt_instances.transformed_keypoints`` (1, K, 2): keypoints in crop pixels — in training
      (both stages) and at test time in stage 1 (which reconstructs the ground truth);
    - ``gt_instances.keypoints_visible`` (1, K): visibility (> 0 = visible);
    - metainfo ``input_size`` (W, H), ``input_center`` (2,) and ``input_scale`` (2,) px, to map
      predictions back to the original image; ``flip_indices`` when ``test_cfg.flip_test``.

    Args:
        stage (str): ``'tokenizer'`` or ``'classifier'``.
        in_channels (int): channels of the backbone's last map (PCT-Base 1024).
        input_size (Sequence[int]): (W, H) of the crop (PCT: (256, 256)).
        num_keypoints (int): K (17).
        tokenizer (dict): :class:`PCTTokenizer` config (``num_keypoints``, ``input_size`` and
            ``guide_channels`` are filled in from the head).
        classifier (dict, optional): :class:`PCTClassifier` config, required in stage 2
            (``in_channels``, ``input_size``, ``num_tokens`` and ``num_codes`` are filled in).
        keypoint_loss_weight (float): weight of ``loss_kpt`` (1).
        latent_loss_weight (float): weight of ``loss_latent`` (15).
        token_loss_weight (float): weight of ``loss_token`` (1).
        smooth_l1_beta (float): smooth-L1 β in pixels (0.05).
        init_cfg (dict | list[dict], optional): defaults to PCT's: Conv2d ~ N(0, 0.001²),
            BatchNorm weight 1.
    """

    def __init__(self, stage: str, in_channels: int, input_size: Sequence[int] = (256, 256),
                 num_keypoints: int = 17, tokenizer: ConfigType = dict(),
                 classifier: OptConfigType = None, keypoint_loss_weight: float = 1.0,
                 latent_loss_weight: float = 15.0, token_loss_weight: float = 1.0,
                 smooth_l1_beta: float = 0.05, init_cfg: OptConfigType = None) -> None:
        if init_cfg is None:
            init_cfg = [dict(type='Normal', layer='Conv2d', std=0.001),
                        dict(type='Constant', layer='BatchNorm2d', val=1)]
        super().__init__(init_cfg)
        if stage not in STAGES:
            raise ValueError(f'PCTHead: stage must be one of {STAGES}, got {stage!r}')
        if stage == 'tokenizer' and classifier is not None:
            raise ValueError('PCTHead: stage="tokenizer" trains the tokenizer only; remove the '
                             '`classifier` config')
        if stage == 'classifier' and classifier is None:
            raise ValueError('PCTHead: stage="classifier" needs a `classifier` config')
        self.stage = stage
        self.input_size = tuple(input_size)
        self.num_keypoints = num_keypoints
        self.keypoint_loss_weight = keypoint_loss_weight
        self.latent_loss_weight = latent_loss_weight
        self.token_loss_weight = token_loss_weight
        self.smooth_l1_beta = smooth_l1_beta

        tokenizer = dict(type='PCTTokenizer', **tokenizer)
        _shared_arg(tokenizer, 'num_keypoints', num_keypoints, 'tokenizer')
        _shared_arg(tokenizer, 'input_size', self.input_size, 'tokenizer')
        if tokenizer.get('guide_ratio', 0.0) > 0:
            _shared_arg(tokenizer, 'guide_channels', in_channels, 'tokenizer')
        self.tokenizer: PCTTokenizer = MODELS.build(tokenizer)

        if stage == 'classifier':
            classifier = dict(type='PCTClassifier', **classifier)
            _shared_arg(classifier, 'in_channels', in_channels, 'classifier')
            _shared_arg(classifier, 'input_size', self.input_size, 'classifier')
            _shared_arg(classifier, 'num_tokens', self.tokenizer.num_tokens, 'classifier')
            _shared_arg(classifier, 'num_codes', self.tokenizer.quantizer.num_codes,
                        'classifier')
            self.classifier = MODELS.build(classifier)
            self.tokenizer.eval()
            self.tokenizer.requires_grad_(False)

    @property
    def guided(self) -> bool:
        """Whether the tokenizer encoder uses image features."""
        return self.tokenizer.guided

    @property
    def needs_image_features(self) -> bool:
        """Whether loss/predict need backbone features (stage 2, or an image-guided stage 1)."""
        return self.stage == 'classifier' or self.guided

    def train(self, mode: bool = True) -> 'PCTHead':
        """Set the mode; in stage 2 the frozen tokenizer stays in eval mode."""
        super().train(mode)
        if self.stage == 'classifier':
            self.tokenizer.eval()
        return self

    def forward(self, feats: Tuple[Tensor, ...]) -> Tensor:
        """Stage 2 only: token logits (B, N, V) from the backbone features (last map used)."""
        if self.stage != 'classifier':
            raise RuntimeError('PCTHead(stage="tokenizer") has no image-only forward: the '
                               'tokenizer needs keypoints; use loss()/predict() or '
                               'head.tokenizer(keypoints, keypoints_visible)')
        return self.classifier(feats)

    def expected_codes(self, logits: Tensor) -> Tensor:
        """Probability-weighted codes softmax(logits) @ codebook: (B, N, V) -> (B, N, D),
        differentiable (stage 2's keypoint loss back-propagates through it)."""
        if logits.dim() != 3 or logits.shape[-1] != self.tokenizer.quantizer.num_codes:
            raise ValueError('PCTHead: logits must be (B, N, V) with V = '
                             f'{self.tokenizer.quantizer.num_codes} (codebook size), got '
                             f'{tuple(logits.shape)}')
        return self.tokenizer.quantizer.soft_lookup(logits.softmax(dim=-1))

    def tokens_from_logits(self, logits: Tensor, decode: bool = False) -> Dict[str, Tensor]:
        """Pose tokens of token logits (the classifier's, or perturbed ones).

        Args:
            logits (Tensor): (B, N, V) token logits.
            decode (bool): also decode 2D keypoints from ``pose_feats``.

        Returns:
            dict: ``pose_feats`` (B, N, D) = softmax(logits) @ codebook, detached;
            ``pose_scores`` (B, N, 1) = max raw logit per token (not a probability, not
            detached); and, if ``decode``, ``keypoints`` (B, K, 2) in crop pixels decoded from
            ``pose_feats`` by the tokenizer decoder.
        """
        pose_feats = self.expected_codes(logits).detach()
        out = dict(pose_feats=pose_feats, pose_scores=logits.max(dim=-1, keepdim=True).values)
        if decode:
            out['keypoints'] = self.tokenizer.decode(pose_feats)
        return out

    def keypoint_scores(self, pose_scores: Tensor) -> Tensor:
        """Stage-2 keypoint scores (B, K) of the token scores (B, N, 1): their mean over the
        tokens, the same for every keypoint (as in PCT)."""
        return pose_scores.mean(dim=1).expand(-1, self.num_keypoints)

    def encode_keypoints(self, keypoints: Tensor, keypoints_visible: Tensor,
                         feats: Feats = None) -> Dict[str, Tensor]:
        """Ground-truth pose tokens: ``pose_feats`` (B, N, D) codebook rows and ``indices``
        (B, N). ``feats`` (backbone output) is needed only by an image-guided tokenizer."""
        codes, indices = self.tokenizer.tokenize(keypoints, keypoints_visible,
                                                 self._feature_map(feats))
        return dict(pose_feats=codes, indices=indices)

    def loss(self, feats: Feats, batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> Dict[str, Tensor]:
        """Stage losses (see the class docstring); ``feats`` may be ``None`` in an unguided
        stage 1."""
        keypoints, visible = self._gt_keypoints(batch_data_samples)
        feature_map = self._feature_map(feats)
        if self.stage == 'tokenizer':
            out = self.tokenizer(keypoints, visible, feature_map)
            return dict(
                loss_kpt=self.keypoint_loss_weight * visible_smooth_l1(
                    out['keypoints'], keypoints, visible, self.smooth_l1_beta),
                loss_latent=self.latent_loss_weight * out['latent_loss'])

        logits = self.classifier(feats)
        with torch.no_grad():
            _, target = self.tokenizer.tokenize(keypoints, visible, feature_map)
        pred_keypoints = self.tokenizer.decode(self.expected_codes(logits))
        return dict(
            loss_token=self.token_loss_weight * F.cross_entropy(logits.flatten(0, 1),
                                                                target.flatten()),
            loss_kpt=self.keypoint_loss_weight * visible_smooth_l1(
                pred_keypoints, keypoints, visible, self.smooth_l1_beta),
            acc_token=(logits.argmax(dim=-1) == target).float().mean().detach())

    def predict(self, feats: Union[Feats, List[Feats]], batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> List[InstanceData]:
        """Predict keypoints in original-image pixels.

        Args:
            feats: backbone features (``None`` in an unguided stage 1); with
                ``test_cfg.flip_test`` a pair ``[feats, feats_of_the_flipped_image]``.
            batch_data_samples (list[PoseDataSample]): see the class docstring.
            test_cfg (dict): ``flip_test`` (bool) averages with the mirrored image.

        Returns:
            list[InstanceData]: per sample ``keypoints`` (1, K, 2) original-image px and
            ``keypoint_scores`` (1, K) (stage 2: mean over tokens of the max raw logit, as in
            PCT; stage 1: the ground-truth visibility), numpy float32.
        """
        if test_cfg.get('flip_test', False):
            feats, feats_flip = feats
            keypoints, scores = self._predict_crop(feats, batch_data_samples, flip=False)
            flip_indices = batch_data_samples[0].metainfo['flip_indices']
            keypoints_f, scores_f = self._predict_crop(feats_flip, batch_data_samples, flip=True)
            keypoints_f = flip_keypoints_horizontally(keypoints_f, flip_indices,
                                                      self.input_size[0])
            keypoints = (keypoints + keypoints_f) / 2
            scores = (scores + scores_f[:, flip_indices]) / 2
        else:
            keypoints, scores = self._predict_crop(feats, batch_data_samples, flip=False)

        keypoints = keypoints.detach().cpu().numpy().astype(np.float32)
        scores = scores.detach().cpu().numpy().astype(np.float32)
        preds = []
        for kpts, kpt_scores, sample in zip(keypoints, scores, batch_data_samples):
            meta = sample.metainfo
            input_size = np.asarray(meta['input_size'], dtype=np.float32).reshape(2)
            scale = np.asarray(meta['input_scale'], dtype=np.float32).reshape(2)
            center = np.asarray(meta['input_center'], dtype=np.float32).reshape(2)
            kpts = kpts / input_size * scale + center - 0.5 * scale
            preds.append(InstanceData(keypoints=kpts[None], keypoint_scores=kpt_scores[None]))
        return preds

    def _predict_crop(self, feats: Feats, batch_data_samples: OptSampleList,
                      flip: bool) -> Tuple[Tensor, Tensor]:
        """Keypoints (B, K, 2) in crop pixels and scores (B, K) for one view (``flip`` = the
        features are of the mirrored image; the stage-1 ground truth is mirrored to match)."""
        if self.stage == 'classifier':
            out = self.tokens_from_logits(self.forward(feats), decode=True)
            return out['keypoints'], self.keypoint_scores(out['pose_scores'])
        keypoints, visible = self._gt_keypoints(batch_data_samples)
        if flip:
            flip_indices = batch_data_samples[0].metainfo['flip_indices']
            keypoints = flip_keypoints_horizontally(keypoints, flip_indices, self.input_size[0])
            visible = visible[:, flip_indices]
        out = self.tokenizer(keypoints, visible, self._feature_map(feats))
        return out['keypoints'], visible

    def _feature_map(self, feats: Feats) -> Optional[Tensor]:
        """The backbone map the tokenizer samples (last output), or ``None`` if unguided."""
        if not self.guided:
            return None
        if feats is None:
            raise ValueError('PCTHead: the tokenizer is image-guided; backbone features are '
                             'required')
        return feats[-1] if isinstance(feats, (tuple, list)) else feats

    def _gt_keypoints(self, batch_data_samples: OptSampleList) -> Tuple[Tensor, Tensor]:
        """Stack ``gt_instances.transformed_keypoints`` (B, K, 2) and ``keypoints_visible``
        (B, K) as float32 tensors on the head's device."""
        keypoints, visible = [], []
        for sample in batch_data_samples:
            gt = sample.gt_instances
            if 'transformed_keypoints' not in gt or 'keypoints_visible' not in gt:
                raise KeyError('PCTHead: data samples need gt_instances.transformed_keypoints and '
                               'gt_instances.keypoints_visible; use MMPose\'s top-down pipeline '
                               'ending in PackPoseInputs(pack_transformed=True)')
            kpts = np.asarray(gt.transformed_keypoints, dtype=np.float32)
            vis = np.asarray(gt.keypoints_visible, dtype=np.float32)
            if kpts.shape != (1, self.num_keypoints, 2):
                raise ValueError('PCTHead: expected one instance with keypoints of shape '
                                 f'(1, {self.num_keypoints}, 2) per sample, got {kpts.shape} '
                                 f'({sample.metainfo.get("img_path", "?")})')
            keypoints.append(kpts[0])
            visible.append(vis.reshape(self.num_keypoints))
        device = self.tokenizer.invisible_token.device
        return (torch.from_numpy(np.stack(keypoints)).to(device),
                torch.from_numpy(np.stack(visible)).to(device))
