"""High-level mesh inference in the style of mmpose's ``MMPoseInferencer``: an optional mmdet
person detector, many people per image, crops of consecutive frames batched, and frame reading,
detection, inference (one or several workers) and drawing overlapped in threads."""
import os.path as osp
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData
from torch import nn

from mmpose.evaluation.functional import nms
from mmpose.structures import PoseDataSample, merge_data_samples
from ..visualization.scene import draw_people
from .background import BackgroundIterator
from .frame_sources import Frame, FrameSource, open_source
from .inference import (InferenceInputError, has_decoded_pose, image_camera, init_model,
                        mesh_faces, person_crops, place_people, predict_crops, read_image)
from .onnxruntime_model import ONNXRuntimeMeshModel

#: Mesh-model backends of :class:`MeshInferencer` (and ``demo/mesh_demo.py --backend``).
BACKENDS = ('pytorch', 'onnxruntime')


def mmdet_config_dir() -> str:
    """Folder of the detector configs shipped in mmdet's wheel (e.g.
    ``rtmdet/rtmdet_tiny_8xb32-300e_coco.py``, ``faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py``).
    """
    import mmdet
    return osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs')


def resolve_detector_config(config: Union[str, Path, Config]) -> Config:
    """An mmdet config from a file, or from a path relative to :func:`mmdet_config_dir`."""
    if isinstance(config, Config):
        return config.copy()
    for candidate in (str(config), osp.join(mmdet_config_dir(), str(config))):
        if osp.isfile(candidate):
            return Config.fromfile(candidate)
    raise FileNotFoundError(f'detector config "{config}" does not exist (nor under mmdet\'s '
                            f'packaged configs {mmdet_config_dir()})')


def _lower_score_threshold(cfg: Config, bbox_thr: float) -> None:
    """Make the detector keep boxes down to ``bbox_thr`` (its own test-time threshold would
    otherwise drop them before ours applies): one-stage ``test_cfg.score_thr``, two-stage
    ``test_cfg.rcnn.score_thr``."""
    test_cfg = cfg.model.get('test_cfg') or {}
    for node in (test_cfg, test_cfg.get('rcnn') or {}):
        if 'score_thr' in node and node['score_thr'] > bbox_thr:
            node['score_thr'] = bbox_thr


class PersonDetector:
    """An mmdet detector returning person boxes after score threshold, NMS and a top-k.

    Args:
        config (str | Config): mmdet config file (or a path under :func:`mmdet_config_dir`).
        checkpoint (str, optional): detector weights; None keeps random weights (testing
            only: a message says so).
        device (str): device of the detector.
        cat_ids (Sequence[int]): category ids counted as people (COCO person = 0).
        bbox_thr (float): minimum box score (the detector's own test-time threshold is lowered
            to it when higher).
        nms_thr (float): IoU threshold of the NMS over the kept boxes.
        max_persons (int, optional): keep at most this many highest-scoring boxes.
    """

    def __init__(self, config: Union[str, Config], checkpoint: Optional[str] = None,
                 device: str = 'cpu', cat_ids: Sequence[int] = (0, ), bbox_thr: float = 0.3,
                 nms_thr: float = 0.3, max_persons: Optional[int] = None) -> None:
        from mmdet.apis import init_detector
        from mmdet.utils import get_test_pipeline_cfg

        if max_persons is not None and max_persons < 1:
            raise InferenceInputError(f'max_persons must be at least 1 (or None for all '
                                      f'detections), got {max_persons}')
        cfg = resolve_detector_config(config)
        _lower_score_threshold(cfg, bbox_thr)
        if checkpoint is not None and not osp.isfile(checkpoint):
            raise FileNotFoundError(f'detector checkpoint "{checkpoint}" does not exist')
        if checkpoint is None:
            print_log('the person detector has random weights (no detector checkpoint given)',
                      logger='current')
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmdet')):
            self.model = init_detector(cfg, checkpoint, device=device)
            pipeline = get_test_pipeline_cfg(self.model.cfg.copy())
            pipeline[0].type = 'mmdet.LoadImageFromNDArray'
            self.pipeline = Compose(pipeline)
        self.cat_ids = tuple(int(c) for c in cat_ids)
        self.bbox_thr = bbox_thr
        self.nms_thr = nms_thr
        self.max_persons = max_persons

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Person boxes of a BGR image: (N, 5) float32 ``x1, y1, x2, y2, score``, best
        first."""
        from mmdet.apis import inference_detector
        with DefaultScope.overwrite_default_scope(self.model.cfg.get('default_scope', 'mmdet')):
            result = inference_detector(self.model, image, test_pipeline=self.pipeline)
        pred = result.pred_instances.cpu().numpy()
        return select_person_boxes(pred.bboxes, pred.scores, pred.labels, self.cat_ids,
                                   self.bbox_thr, self.nms_thr, self.max_persons)


def select_person_boxes(bboxes: np.ndarray, scores: np.ndarray, labels: np.ndarray,
                        cat_ids: Sequence[int], bbox_thr: float, nms_thr: float,
                        max_persons: Optional[int] = None) -> np.ndarray:
    """Person boxes among detections: classes in ``cat_ids`` with ``score >= bbox_thr``,
    then greedy NMS at IoU ``nms_thr`` (mmpose's ``nms``), best first, at most
    ``max_persons``.

    Args:
        bboxes (np.ndarray): (N, 4) xyxy.
        scores (np.ndarray): (N,).
        labels (np.ndarray): (N,) class ids.

    Returns:
        np.ndarray: (M, 5) float32 ``x1, y1, x2, y2, score``.
    """
    boxes = np.concatenate([np.asarray(bboxes, np.float32).reshape(-1, 4),
                            np.asarray(scores, np.float32).reshape(-1, 1)], axis=1)
    boxes = boxes[np.isin(labels, list(cat_ids)) & (boxes[:, 4] >= bbox_thr)]
    if len(boxes):
        boxes = boxes[nms(boxes, nms_thr)]
        boxes = boxes[np.argsort(-boxes[:, 4], kind='stable')]
    return boxes[:max_persons] if max_persons else boxes


class MeshInferencer:
    """Mesh recovery on images, folders, videos and webcams, many people per frame.

    Boxes come from the user (``bboxes`` of :meth:`predict` / :meth:`__call__`), else from the
    mmdet detector (``det_model``), else the whole frame is one person. Crops run through the
    model in batches of ``batch_size``: in :meth:`__call__` the crops of consecutive frames
    (of videos, folders) share a batch, and reading frames, detection + cropping, inference
    (``workers`` batches at a time) and drawing overlap in threads (see :meth:`__call__`).

    Example::

        inferencer = MeshInferencer('configs/postometro/....py', 'postometro.pth',
                                    det_model='rtmdet/rtmdet_m_8xb32-300e_coco.py',
                                    det_weights='rtmdet_m.pth')
        for result in inferencer('video.mp4', side_view=True):
            result['predictions']      # PoseDataSample of the frame, N people
            result['visualization']    # RGB image

    Args:
        model (str | Config | nn.Module): mesh model config (or a model from
            :func:`init_model` or an :class:`ONNXRuntimeMeshModel`). A model that can decode
            its pose tokens gets ``test_cfg.output_decoded_pose = True``.
        weights (str, optional): mesh model checkpoint (with a config ``model``); with
            ``backend='onnxruntime'`` the exported ``.onnx`` file.
        device (str, optional): device of both models (default: CUDA if available).
        det_model (str | Config, optional): mmdet config (file or path under mmdet's packaged
            configs); None = no detector.
        det_weights (str, optional): detector checkpoint.
        det_cat_ids (Sequence[int]): detector classes counted as people. Default (0, ).
        bbox_thr (float): minimum detection score. Default 0.3.
        nms_thr (float): NMS IoU threshold of the detections. Default 0.3.
        max_persons (int, optional): keep the best ``max_persons`` detections per frame.
        batch_size (int): crops per forward pass (in :meth:`__call__` the crops of
            consecutive frames fill it). Default 16.
        focal_length (float, optional): assumed focal length (px) of the frames; None = the
            image diagonal.
        cfg_options (dict, optional): overrides of the mesh model config.
        unsafe_load (bool): load ``weights`` in full, also classes off the checkpoint
            allow-list (see :func:`init_model`; trusted files only). Detector weights load
            through mmengine, which follows
            :func:`~postometro_mm.utils.checkpoint_loading.allow_unsafe_checkpoints`.
        backend (str): 'pytorch' (default) or 'onnxruntime' (a graph exported by
            ``tools/deployment/pytorch2onnx.py``, on the CPU; the detector stays on ``device``).
        threads (int, optional): intra-op threads of the mesh model (torch's for 'pytorch',
            process-wide; ONNX Runtime's session); None leaves torch's setting and gives ONNX
            Runtime 1.
        workers (int): batches :meth:`__call__` runs through the mesh model at the same time,
            each in its own thread (ONNX Runtime and torch release the GIL while they
            compute). With ``workers × threads`` equal to the number of cores the cores stay
            busy without oversubscription: on 2 cores, 2 workers of 1 thread ran PostoMETRO-S
            crops 1.1× (eager, int8) to 1.7× (ONNX Runtime fp32) faster than 1 worker of 2
            threads. Default 1.
    """

    def __init__(self,
                 model: Union[str, Path, Config, nn.Module],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 det_model: Optional[Union[str, Config]] = None,
                 det_weights: Optional[str] = None,
                 det_cat_ids: Sequence[int] = (0, ),
                 bbox_thr: float = 0.3,
                 nms_thr: float = 0.3,
                 max_persons: Optional[int] = None,
                 batch_size: int = 16,
                 focal_length: Optional[float] = None,
                 cfg_options: Optional[dict] = None,
                 unsafe_load: bool = False,
                 backend: str = 'pytorch',
                 threads: Optional[int] = None,
                 workers: int = 1) -> None:
        if backend not in BACKENDS:
            raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
        if batch_size < 1:
            raise ValueError(f'batch_size must be at least 1, got {batch_size}')
        if workers < 1:
            raise ValueError(f'workers must be at least 1, got {workers}')
        device = device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
        if threads is not None and backend == 'pytorch':
            torch.set_num_threads(threads)
        if isinstance(model, nn.Module):
            self.model = model
        elif backend == 'onnxruntime':
            if weights is None:
                raise ValueError('backend "onnxruntime" needs weights: the exported .onnx file')
            self.model = ONNXRuntimeMeshModel(model, weights, threads or 1, cfg_options)
        else:
            self.model = init_model(model, weights, device, cfg_options, unsafe_load)
        self.faces = mesh_faces(self.model)
        self.detector = None
        if det_model is not None:
            self.detector = PersonDetector(det_model, det_weights, device, det_cat_ids,
                                           bbox_thr, nms_thr, max_persons)
        self.batch_size = batch_size
        self.focal_length = focal_length
        self.workers = workers
        if self.has_decoded_pose:
            # set once: concurrent workers then never change the model's test_cfg in a call
            self.model.test_cfg['output_decoded_pose'] = True

    @property
    def has_decoded_pose(self) -> bool:
        """Whether predictions carry the 2D pose decoded from the pose tokens."""
        return has_decoded_pose(self.model)

    def boxes(self, image: np.ndarray, bboxes: Optional[np.ndarray] = None
              ) -> Optional[np.ndarray]:
        """Boxes for a frame: the user's, else the detector's (N, 5), else None (whole
        frame)."""
        if bboxes is not None:
            return bboxes
        return self.detector(image) if self.detector is not None else None

    def predict(self, img: Union[str, np.ndarray],
                bboxes: Optional[Union[Sequence, np.ndarray]] = None,
                bbox_format: str = 'xyxy') -> PoseDataSample:
        """Predictions of one image merged into one data sample (N people).

        Args:
            img (str | np.ndarray): image file or BGR uint8 array.
            bboxes (array-like, optional): (N, 4) or (N, 5) boxes; overrides the detector.
            bbox_format (str): 'xyxy' or 'xywh' (user boxes only).

        Returns:
            PoseDataSample: ``pred_instances`` as in :func:`inference_mesh` with N rows
            (empty when no person is found); metainfo ``ori_shape``, ``img_path``,
            ``focal_length``, ``principal_point``.
        """
        image, path = read_image(img)
        crops = self._crops(image, path, bboxes, bbox_format)
        return self._image_sample(predict_crops(self.model, crops, self.batch_size,
                                                self.has_decoded_pose), image.shape[:2], path)

    def _crops(self, image: np.ndarray, path: Optional[str], bboxes,
               bbox_format: str) -> List[dict]:
        """The packed crops of an image's people (user boxes, else detections)."""
        boxes = self.boxes(image, bboxes)
        fmt = bbox_format if bboxes is not None else 'xyxy'
        return person_crops(self.model, image, path, boxes, fmt)

    def _image_sample(self, samples: List[PoseDataSample], image_shape: Tuple[int, int],
                      path: Optional[str]) -> PoseDataSample:
        """The predicted crops of one image placed in its camera and merged (see
        :meth:`predict`)."""
        place_people(samples, image_shape, self.focal_length)
        focal, principal = image_camera(image_shape, self.focal_length)
        meta = dict(img_path=path, ori_shape=tuple(image_shape), img_shape=tuple(image_shape),
                    focal_length=focal, principal_point=principal)
        if samples:
            merged = merge_data_samples(samples)
        else:
            merged = PoseDataSample(pred_instances=InstanceData())
        merged.set_metainfo(meta)
        return merged

    def visualize(self, image: np.ndarray, data_sample: PoseDataSample,
                  side_view: bool = False, pose_2d: bool = False,
                  alpha: float = 0.8) -> np.ndarray:
        """Draw a frame's predictions (see :func:`draw_people`).

        Args:
            image (np.ndarray): BGR uint8 frame.
            data_sample (PoseDataSample): from :meth:`predict`.

        Returns:
            np.ndarray: RGB uint8 (H, W × panels, 3).
        """
        if pose_2d and not self.has_decoded_pose:
            raise ValueError('pose_2d needs a model whose pose tokenizer feeds its neck '
                             '(pose_token_source "pct" or "raw_keypoints"); this one has '
                             f'{getattr(self.model, "pose_token_source", None)!r}')
        return draw_people(np.ascontiguousarray(image[..., ::-1]), data_sample, self.faces,
                           side_view=side_view, pose_2d=pose_2d, alpha=alpha)

    def __call__(self, inputs: Union[str, FrameSource],
                 bboxes: Optional[Union[Sequence, np.ndarray]] = None,
                 bbox_format: str = 'xyxy', return_vis: bool = True,
                 side_view: bool = False, pose_2d: bool = False, alpha: float = 0.8,
                 max_frames: Optional[int] = None, overlap: bool = True) -> Iterator[dict]:
        """Run on every frame of an input.

        With ``overlap`` (default) the work runs in threads side by side: one reads and
        decodes frames (a few ahead); one detects people and crops them, gathering the crops of
        consecutive frames into batches of ``batch_size`` (a webcam's frames are not held back
        for a batch: each goes through at once); ``workers`` threads run those batches through
        the mesh model; and the caller's thread draws the finished frames and does what it
        wants with them (the demo writes files). Results come in frame order. Without
        ``overlap`` every frame is read, predicted and drawn in turn (:meth:`process_frame`).
        Both give the same predictions up to the float rounding of other batch compositions.

        Args:
            inputs (str | FrameSource): image, folder, video, ``webcam[:id]`` (see
                :func:`open_source`) or an opened source.
            bboxes (array-like, optional): the same user boxes for every frame.
            bbox_format (str): format of ``bboxes``.
            return_vis (bool): draw the frames.
            side_view (bool): add a side-view panel.
            pose_2d (bool): add the decoded-2D-pose panel.
            alpha (float): mesh opacity.
            max_frames (int, optional): stop after this many frames.
            overlap (bool): run reading, cropping, inference and drawing in overlapping
                threads.

        Yields:
            dict: ``frame`` (:class:`Frame`), ``predictions`` (PoseDataSample or None when
            the image could not be read, then ``error`` says why) and ``visualization`` (RGB
            array or None).
        """
        source = inputs if isinstance(inputs, FrameSource) else open_source(inputs, max_frames)
        draw = dict(return_vis=return_vis, side_view=side_view, pose_2d=pose_2d, alpha=alpha)
        if not overlap:
            for frame in source:
                yield self.process_frame(frame, bboxes, bbox_format, **draw)
            return
        frames = BackgroundIterator(source, depth=4, name='mesh frame reader')
        groups = BackgroundIterator(
            self._frame_groups(frames, bboxes, bbox_format, source.kind != 'webcam'),
            depth=self.workers + 1, name='mesh crops')
        running = deque()
        try:
            with ThreadPoolExecutor(self.workers, 'mesh inference') as pool:
                for group in groups:
                    running.append(pool.submit(self._predict_group, group))
                    while len(running) > self.workers:  # every worker busy, one batch queued
                        for frame, sample in running.popleft().result():
                            yield self._result(frame, sample, **draw)
                while running:
                    for frame, sample in running.popleft().result():
                        yield self._result(frame, sample, **draw)
        finally:
            for future in running:
                future.cancel()
            groups.close()
            frames.close()

    def _frame_groups(self, frames: Iterator[Frame], bboxes, bbox_format: str,
                      batch_frames: bool) -> Iterator[List[Tuple[Frame, Optional[List[dict]]]]]:
        """Consecutive frames with their packed crops (None for unreadable frames); with
        ``batch_frames`` a group ends once it has ``batch_size`` crops, else it is one
        frame."""
        group: List[Tuple[Frame, Optional[List[dict]]]] = []
        num_crops = 0
        for frame in frames:
            crops = (None if frame.image is None else
                     self._crops(frame.image, frame.path, bboxes, bbox_format))
            group.append((frame, crops))
            num_crops += len(crops or ())
            if num_crops >= self.batch_size or not batch_frames:
                yield group
                group, num_crops = [], 0
        if group:
            yield group

    def _predict_group(self, group: List[Tuple[Frame, Optional[List[dict]]]]
                       ) -> List[Tuple[Frame, Optional[PoseDataSample]]]:
        """Run the crops of a group of frames together and split the predictions by frame
        (None for unreadable frames)."""
        samples = predict_crops(self.model, [c for _, crops in group for c in crops or ()],
                                self.batch_size, self.has_decoded_pose)
        results, start = [], 0
        for frame, crops in group:
            if crops is None:
                results.append((frame, None))
                continue
            mine, start = samples[start:start + len(crops)], start + len(crops)
            results.append((frame, self._image_sample(mine, frame.image.shape[:2], frame.path)))
        return results

    def process_frame(self, frame: Frame, bboxes=None, bbox_format: str = 'xyxy',
                      return_vis: bool = True, side_view: bool = False,
                      pose_2d: bool = False, alpha: float = 0.8) -> dict:
        """Predict (and draw) one :class:`Frame`; see :meth:`__call__`."""
        sample = (None if frame.image is None else
                  self.predict(frame.image, bboxes, bbox_format))
        return self._result(frame, sample, return_vis, side_view, pose_2d, alpha)

    def _result(self, frame: Frame, sample: Optional[PoseDataSample], return_vis: bool,
                side_view: bool, pose_2d: bool, alpha: float) -> dict:
        """The result dict of a predicted frame (see :meth:`__call__`), drawn if asked."""
        if sample is None:
            return dict(frame=frame, predictions=None, visualization=None, error=frame.error)
        if frame.path is not None:
            sample.set_metainfo(dict(img_path=frame.path))
        vis = (self.visualize(frame.image, sample, side_view, pose_2d, alpha) if return_vis
               else None)
        return dict(frame=frame, predictions=sample, visualization=vis, error=None)
