"""Build a mesh estimator from a config + checkpoint and run it on person boxes of an image.

Mirrors :func:`mmpose.apis.init_model` / :func:`mmpose.apis.inference_topdown`, with what mesh
recovery adds: a strict checkpoint check, the crop pipeline for person boxes, the decoded 2D
pose of the pose tokens and the full-image camera translation of every person.
"""
from contextlib import contextmanager, nullcontext
from copy import deepcopy
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from torch import nn

from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from mmpose.structures.bbox import bbox_xywh2xyxy
from ..utils.checkpoint_loading import (check_state_dict, load_checkpoint_file,
                                        model_state_dict)
from ..utils.model_configs import without_training_assets
from ..visualization.renderer import weak_perspective_to_translation

#: Smallest image side (px) :func:`read_image` accepts.
MIN_IMAGE_SIDE = 16
#: Box padding of the inference crops: 3DPW's convention (crop side = 1.2 × max(w, h)).
DEFAULT_BBOX_PADDING = 1.2
_CROP_TRANSFORMS = ('MeshTopdownAffine', 'TopdownAffine')


class InferenceInputError(ValueError):
    """An input image, video or box list that cannot be used (message names it)."""


def _type_name(transform: dict) -> str:
    return str(transform.get('type', '')).split('.')[-1]


# ---------------------------------------------------------------------------- model
def load_config(config: Union[str, Path, Config]) -> Config:
    if isinstance(config, (str, Path)):
        if not Path(config).is_file():
            raise FileNotFoundError(f'model config "{config}" does not exist')
        return Config.fromfile(str(config))
    if isinstance(config, Config):
        return deepcopy(config)
    raise TypeError(f'config must be a file name or an mmengine Config, got {type(config)}')


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None,
               unsafe_load: bool = False) -> nn.Module:
    """Build a mesh estimator from a config and load a checkpoint strictly.

    As :func:`mmpose.apis.init_model`, except that the checkpoint must fit the model exactly:
    any missing, unexpected or differently shaped parameter raises
    :class:`CheckpointMismatchError` listing them (a mesh model with silently random layers
    gives plausible-looking nonsense), and that the head's training-only ``body_model`` (SMPL
    for ground-truth meshes; its arrays are never in checkpoints) is not built, unless the head
    also reads it at inference (VQ-HPS: the rest pose of its rotation branch). The model gets
    ``cfg`` (the config), ``dataset_meta`` (from the checkpoint's meta when present) and
    ``inference_pipeline`` (see :func:`build_inference_pipeline`) attributes and is in eval
    mode.

    Args:
        config (str | Path | Config): model config.
        checkpoint (str, optional): checkpoint file (mmengine format: ``state_dict`` or a bare
            state dict). None keeps the random initial weights.
        device (str, optional): e.g. 'cpu' or 'cuda:0'. Default: 'cuda:0' if available, else
            'cpu'.
        cfg_options (dict, optional): overrides merged into the config.
        unsafe_load (bool): unpickle the checkpoint in full, also classes off the allow-list
            of :func:`~postometro_mm.utils.checkpoint_loading.load_checkpoint_file` (trusted
            files only). False refuses them unless
            :func:`~postometro_mm.utils.checkpoint_loading.allow_unsafe_checkpoints` was called.

    Returns:
        nn.Module: the model.
    """
    cfg = load_config(config)
    config_name = config if isinstance(config, (str, Path)) else cfg.filename or '<Config>'
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'config "{config_name}" has no "model"')
    cfg.model = without_training_assets(cfg.model)
    cfg.model.train_cfg = None
    device = device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpose')):
        model = MODELS.build(cfg.model)
        pipeline = build_inference_pipeline(cfg)
    dataset_meta = None
    if checkpoint is not None:
        if not Path(checkpoint).is_file():
            raise FileNotFoundError(f'checkpoint "{checkpoint}" does not exist')
        ckpt = load_checkpoint_file(str(checkpoint), 'cpu', unsafe=unsafe_load or None)
        state_dict = model_state_dict(ckpt, str(checkpoint))
        check_state_dict(model, state_dict, str(checkpoint), str(config_name))
        model.load_state_dict(state_dict, strict=True)
        dataset_meta = ckpt.get('meta', {}).get('dataset_meta')
    model.cfg = cfg
    model.dataset_meta = dataset_meta or {}
    model.inference_pipeline = pipeline
    return model.to(device).eval()


def mesh_faces(model: nn.Module) -> np.ndarray:
    """Faces (F, 3) int64 of the predicted (finest) mesh: level 0 of the head's mesh sampler
    (PostoMETRO, FastMETRO), else the faces of the head's body model (VQ-HPS); an ONNX Runtime
    model gives its own (``faces()``)."""
    if callable(getattr(model, 'faces', None)):
        return model.faces()
    head = getattr(model, 'head', None)
    sampler = getattr(head, 'mesh_sampler', None)
    if sampler is not None:
        return np.asarray(sampler.faces(0), dtype=np.int64)
    body_model = getattr(head, 'body_model', None)
    if body_model is not None:
        return np.asarray(body_model.faces, dtype=np.int64)
    raise AttributeError(f'{type(model).__name__}.head has neither a mesh_sampler nor a '
                         'body_model: not a mesh estimator (expected e.g. PostoMETROHead or '
                         'VQHPSHead)')


# ---------------------------------------------------------------------------- pipeline
def build_inference_pipeline(cfg: Config, bbox_padding: float = DEFAULT_BBOX_PADDING
                             ) -> Compose:
    """The crop pipeline for person boxes, from the config.

    ``cfg.inference_pipeline`` is used unchanged when the config defines it (it receives
    ``img`` (BGR array), ``img_path``, ``bbox`` (1, 4) xyxy and ``bbox_score`` (1,) and must
    end with a packing transform whose metainfo holds ``input_size``, ``input_center`` and
    ``input_scale``). Otherwise it is the config's own test pipeline,
    ``cfg.test_dataloader.dataset.pipeline`` (as in mmpose's ``inference_topdown``; its
    ``PackMeshInputs`` packs the image, the box and the crop metainfo when there are no
    labels), with a ``GetBBoxCenterScale(padding=bbox_padding)`` inserted before the crop
    transform (``MeshTopdownAffine`` / ``TopdownAffine``) if the pipeline has none: mesh
    datasets give centres and scales themselves, detectors give boxes. With the default 1.2
    the square crop has side 1.2 × max(w, h), 3DPW's convention.

    Args:
        cfg (Config): model config.
        bbox_padding (float): box padding of the inserted ``GetBBoxCenterScale``.

    Returns:
        Compose: the pipeline (built in the config's default scope).
    """
    if cfg.get('inference_pipeline'):
        steps = deepcopy(cfg.inference_pipeline)
    else:
        try:
            steps = deepcopy(cfg.test_dataloader.dataset.pipeline)
        except AttributeError:
            raise KeyError('the config has neither "inference_pipeline" nor '
                           '"test_dataloader.dataset.pipeline" to crop person boxes') from None
        names = [_type_name(t) for t in steps]
        crop = next((i for i, n in enumerate(names) if n in _CROP_TRANSFORMS), None)
        if crop is None:
            raise ValueError(f'cannot derive an inference pipeline from the test pipeline '
                             f'{names}: it has no crop transform {_CROP_TRANSFORMS}; define '
                             '"inference_pipeline" in the config')
        if 'GetBBoxCenterScale' not in names[:crop]:
            steps.insert(crop, dict(type='GetBBoxCenterScale', padding=bbox_padding))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpose')):
        return Compose(steps)


# ---------------------------------------------------------------------------- inputs
def read_image(img: Union[str, np.ndarray]) -> Tuple[np.ndarray, Optional[str]]:
    """Image as BGR uint8 (H, W, 3) and its path (None for arrays).

    Raises:
        InferenceInputError: the file is missing, unreadable or not an image, or the array
            is not (H, W, 3) uint8 of at least :data:`MIN_IMAGE_SIDE` px a side.
    """
    path = None
    if isinstance(img, (str, Path)):
        path = str(img)
        if not Path(path).is_file():
            raise InferenceInputError(f'image "{path}" does not exist')
        try:
            img = mmcv.imread(path, channel_order='bgr')
        except Exception as err:  # cv2/turbojpeg/pillow raise various types on bad data
            raise InferenceInputError(f'image "{path}" cannot be decoded ({err})') from None
        if img is None:
            raise InferenceInputError(f'image "{path}" cannot be decoded (corrupt file or '
                                      'not an image)')
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    if img.ndim != 3 or img.shape[2] != 3 or min(img.shape[:2]) == 0:
        raise InferenceInputError(f'image {path or "array"} must be (H, W, 3), got '
                                  f'{img.shape}')
    if img.dtype != np.uint8:
        raise InferenceInputError(
            f'image {path or "array"} must be uint8 BGR with values 0-255, got {img.dtype} '
            f'(values {img.min()}..{img.max()}); convert float images in [0, 1] with '
            '(img * 255).round().astype(np.uint8)')
    if min(img.shape[:2]) < MIN_IMAGE_SIDE:
        raise InferenceInputError(f'image {path or "array"} is {img.shape[1]}x{img.shape[0]} '
                                  f'px: too small for a person (at least {MIN_IMAGE_SIDE} px '
                                  'a side)')
    return img, path


def normalize_bboxes(bboxes: Union[None, Sequence, np.ndarray], image_shape: Tuple[int, int],
                     bbox_format: str = 'xyxy') -> Tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4) xyxy float32 and scores (N,) from user input.

    ``None`` gives the whole image with score 1; an empty list gives no box. Rows may have a
    fifth column, the box score (default 1).

    Raises:
        InferenceInputError: wrong shape, unknown format, a box with a non-finite value or no
            area, or one wholly outside the image.
    """
    height, width = image_shape
    if bboxes is None:
        return (np.array([[0, 0, width, height]], dtype=np.float32),
                np.ones(1, dtype=np.float32))
    if bbox_format not in ('xyxy', 'xywh'):
        raise InferenceInputError(f'bbox_format must be "xyxy" or "xywh", got {bbox_format!r}')
    boxes = np.asarray(bboxes, dtype=np.float32)
    if boxes.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    boxes = boxes.reshape(-1, boxes.shape[-1]) if boxes.ndim > 1 else boxes[None]
    if boxes.shape[1] not in (4, 5):
        raise InferenceInputError(f'boxes must be (N, 4) or (N, 5) with scores, got '
                                  f'{np.asarray(bboxes).shape}')
    scores = boxes[:, 4].copy() if boxes.shape[1] == 5 else np.ones(len(boxes), np.float32)
    boxes = boxes[:, :4].copy()
    if bbox_format == 'xywh':
        boxes = bbox_xywh2xyxy(boxes)
    checks = (
        (~np.isfinite(boxes).all(1) | ~np.isfinite(scores), 'has a non-finite value'),
        ((boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1]),
         'has no area (expected x1 < x2 and y1 < y2)'),
        ((boxes[:, 2] <= 0) | (boxes[:, 3] <= 0) | (boxes[:, 0] >= width)
         | (boxes[:, 1] >= height), f'lies wholly outside the {width}x{height} image'))
    given = np.asarray(bboxes, np.float32).reshape(len(boxes), -1)
    for bad, what in checks:
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise InferenceInputError(f'box {index} {given[index].tolist()} ({bbox_format}) '
                                      f'{what}')
    return boxes, scores


# ---------------------------------------------------------------------------- decoded pose
def has_decoded_pose(model: nn.Module) -> bool:
    """Whether :func:`inference_mesh` can give the 2D pose decoded from the pose tokens: the
    model is a :class:`MeshEstimator` whose pose tokenizer feeds its neck
    (:attr:`MeshEstimator.can_decode_pose`)."""
    return bool(getattr(model, 'can_decode_pose', False))


@contextmanager
def _decoded_pose_option(model: nn.Module, enabled: bool) -> Iterator[None]:
    """Set the model's ``test_cfg.output_decoded_pose`` for the duration of a call (left
    untouched when it already has that value, so that concurrent calls with the same value
    never change it under each other)."""
    test_cfg = model.test_cfg
    if bool(test_cfg.get('output_decoded_pose', False)) == enabled:
        yield
        return
    had, previous = 'output_decoded_pose' in test_cfg, test_cfg.get('output_decoded_pose')
    test_cfg['output_decoded_pose'] = enabled
    try:
        yield
    finally:
        if had:
            test_cfg['output_decoded_pose'] = previous
        else:
            test_cfg.pop('output_decoded_pose')


# ---------------------------------------------------------------------------- inference
def _chunks(items: list, size: Optional[int]) -> Iterator[list]:
    size = size or max(len(items), 1)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _camera_translation(camera: np.ndarray, center: np.ndarray, crop_size: float,
                        focal: float, principal: np.ndarray) -> np.ndarray:
    """(1, 3) full-image translation, NaN when the camera scale is not positive (the mesh
    cannot be placed in front of the camera; drawing skips such people)."""
    if not camera[0] > 0:
        return np.full((1, 3), np.nan, dtype=np.float32)
    return weak_perspective_to_translation(camera, center, crop_size, focal,
                                           principal).astype(np.float32)[None]


@torch.no_grad()
def inference_mesh(model: nn.Module,
                   img: Union[str, np.ndarray],
                   bboxes: Union[None, Sequence, np.ndarray] = None,
                   bbox_format: str = 'xyxy',
                   batch_size: Optional[int] = None,
                   focal_length: Optional[float] = None,
                   decode_pose: Optional[bool] = None) -> List[PoseDataSample]:
    """Recover one mesh per person box of an image.

    Args:
        model (nn.Module): a mesh estimator from :func:`init_model`.
        img (str | np.ndarray): image file or BGR uint8 (H, W, 3) array (mmpose's
            convention).
        bboxes (array-like, optional): (N, 4) boxes (or (N, 5) with scores) in
            ``bbox_format``; None = the whole image as one box; empty = no person.
        bbox_format (str): 'xyxy' or 'xywh'.
        batch_size (int, optional): crops per forward pass (None: all at once).
        focal_length (float, optional): assumed focal length (px) of the full image for
            ``camera_translation``; None = the image diagonal ``sqrt(W² + H²)`` (CLIFF's
            estimate for unknown intrinsics).
        decode_pose (bool, optional): add the 2D pose decoded from the pose tokens (the
            model's ``test_cfg.output_decoded_pose`` for this call: the tokenizer runs once,
            only its small decoder is added); None = whenever the model can
            (:func:`has_decoded_pose`).

    Returns:
        list[PoseDataSample]: one per box, in box order. ``pred_instances`` (numpy, leading
        axis 1) hold the model's ``vertices`` (1, V, 3) m root-relative (OpenCV camera axes:
        x right, y down, z forward), ``keypoints_3d`` (1, 14, 3) m, ``camera`` (1, 3) weak
        perspective (s, tx, ty), ``keypoints`` (1, 14, 2) image px and ``keypoint_scores``,
        plus ``bboxes`` (1, 4) xyxy, ``bbox_scores`` (1,), ``camera_translation`` (1, 3) m
        (``vertices + camera_translation`` is the mesh in the full-image camera, see
        :func:`weak_perspective_to_translation`; NaN if the predicted scale s <= 0) and,
        with ``decode_pose``, ``decoded_keypoints`` (1, 17, 2) COCO-17 image px (paper
        Fig. 3 b). Metainfo adds ``focal_length`` and ``principal_point`` (px) of that camera.
    """
    image, path = read_image(img)
    if decode_pose is None:
        decode_pose = has_decoded_pose(model)
    crops = person_crops(model, image, path, bboxes, bbox_format)
    samples = predict_crops(model, crops, batch_size, decode_pose)
    place_people(samples, image.shape[:2], focal_length)
    return samples


def person_crops(model: nn.Module, image: np.ndarray, path: Optional[str],
                 bboxes: Union[None, Sequence, np.ndarray] = None,
                 bbox_format: str = 'xyxy') -> List[dict]:
    """The model's inference pipeline run on every person box of an image (the first step
    of :func:`inference_mesh`).

    Args:
        model (nn.Module): a mesh estimator from :func:`init_model` (or an
            :class:`ONNXRuntimeMeshModel`).
        image (np.ndarray): BGR uint8 (H, W, 3), as :func:`read_image` returns it.
        path (str, optional): its file.
        bboxes, bbox_format: as in :func:`inference_mesh`.

    Returns:
        list[dict]: one packed crop (``inputs``, ``data_samples``) per box, in box order.
    """
    boxes, scores = normalize_bboxes(bboxes, image.shape[:2], bbox_format)
    pipeline = getattr(model, 'inference_pipeline', None) or build_inference_pipeline(model.cfg)
    return [pipeline(dict(img=image, img_path=path, bbox=box[None], bbox_score=score[None]))
            for box, score in zip(boxes, scores[:, None])]


@torch.no_grad()
def predict_crops(model: nn.Module, crops: List[dict], batch_size: Optional[int] = None,
                  decode_pose: bool = False) -> List[PoseDataSample]:
    """Run the model on packed crops (of one image or of several) in batches of
    ``batch_size`` (None: all at once).

    Returns:
        list[PoseDataSample]: one per crop, in order, with the model's ``pred_instances``
        plus the crop's ``bboxes`` (1, 4) xyxy and ``bbox_scores`` (1,).

    Raises:
        ValueError: ``decode_pose`` for a model that cannot decode its pose tokens.
    """
    if decode_pose and not has_decoded_pose(model):
        raise ValueError('decode_pose=True needs a MeshEstimator whose pose tokenizer feeds its '
                         'neck (pose_token_source "pct" or "raw_keypoints"), got '
                         f'pose_token_source={getattr(model, "pose_token_source", None)!r}')
    results: List[PoseDataSample] = []
    for chunk in _chunks(crops, batch_size):
        with (_decoded_pose_option(model, decode_pose) if has_decoded_pose(model)
              else nullcontext()):
            samples = model.test_step(pseudo_collate(chunk))
        for sample in samples:
            pred = sample.pred_instances
            pred.bboxes = np.asarray(sample.gt_instances.bboxes, np.float32).reshape(1, 4)
            pred.bbox_scores = np.asarray(sample.gt_instances.bbox_scores,
                                          np.float32).reshape(1)
            results.append(sample)
    return results


def image_camera(image_shape: Tuple[int, int], focal_length: Optional[float] = None
                 ) -> Tuple[float, np.ndarray]:
    """The assumed full-image camera: focal length (px; None = the image diagonal
    ``sqrt(W² + H²)``) and principal point (2,) float32 px at the image centre."""
    height, width = image_shape
    focal = float(focal_length) if focal_length else float(np.hypot(width, height))
    return focal, np.array([width / 2.0, height / 2.0], dtype=np.float32)


def place_people(samples: List[PoseDataSample], image_shape: Tuple[int, int],
                 focal_length: Optional[float] = None) -> None:
    """Place the people of one image in its full-image camera (the last step of
    :func:`inference_mesh`): set ``pred_instances.camera_translation`` (1, 3) m and the
    metainfo ``focal_length`` / ``principal_point`` (px) of every sample, in place.

    Args:
        samples (list[PoseDataSample]): :func:`predict_crops` of the image's crops.
        image_shape (tuple[int, int]): (H, W) of the image.
        focal_length (float, optional): as in :func:`inference_mesh`.
    """
    focal, principal = image_camera(image_shape, focal_length)
    for sample in samples:
        pred = sample.pred_instances
        meta = sample.metainfo
        center = np.asarray(meta['input_center'], np.float32).reshape(2)
        scale = np.asarray(meta['input_scale'], np.float32).reshape(2)
        pred.camera_translation = _camera_translation(pred.camera[0], center, float(scale[0]),
                                                      focal, principal)
        sample.set_metainfo(dict(focal_length=focal, principal_point=principal))
