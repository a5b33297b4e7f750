"""MMPose visualizer that overlays recovered meshes (CPU renderer) and 2D keypoints."""
import os.path as osp
from typing import List, Optional, Tuple, Union

import mmcv
import numpy as np
import torch
from mmengine.dist import master_only
from mmengine.structures import InstanceData

from mmpose.registry import MODELS, VISUALIZERS
from mmpose.structures import PoseDataSample
from mmpose.visualization import PoseLocalVisualizer
from postometro_mm.body_models import gender_to_index
from postometro_mm.body_models.mesh_sampler import read_mesh_sampler_file
from postometro_mm.body_models.smpl_io import load_smpl_model_file, resolve_smpl_path
from .renderer import weak_perspective_to_translation
from .scene import draw_meshes, draw_side_view, people_in_camera, person_colors


def load_faces(faces: Union[str, np.ndarray]) -> np.ndarray:
    """Mesh faces ``(F, 3)`` int64 from an array or a file.

    ``faces`` may be an array; a ``.npy`` file holding ``(F, 3)``; an SMPL model file
    (``.pkl`` or ``.npz`` with key ``f``, read chumpy-free) or a folder holding
    ``SMPL_NEUTRAL.{npz,pkl}``; or a mesh-sampler ``.npz`` (its finest level): the
    pickle-free file written by ``MeshSampler.save`` or the legacy ``mesh_downsampling.npz``
    (read through the body-model package's allow-list unpickler: numpy arrays and scipy
    sparse matrices only).
    """
    if isinstance(faces, str):
        path = faces
        if osp.isdir(path):
            path = resolve_smpl_path(path, 'neutral')
        if not osp.isfile(path):
            raise FileNotFoundError(f'MeshVisualizer: faces file "{path}" does not exist '
                                    '(expected an SMPL model .pkl/.npz or its folder, a '
                                    '(F, 3) .npy or a MeshSampler .npz)')
        if path.endswith('.npy'):
            faces = np.load(path, allow_pickle=False)
        elif path.endswith('.pkl'):
            faces = load_smpl_model_file(path)['f']
        elif path.endswith('.npz'):
            with np.load(path, allow_pickle=False) as archive:
                is_smpl = 'f' in archive.files
            faces = (load_smpl_model_file(path)['f'] if is_smpl else
                     read_mesh_sampler_file(path, allow_pickle=True)['F'][0])
        else:
            raise ValueError(f'MeshVisualizer: unsupported faces file "{path}" (expected '
                             '.npy, .pkl or .npz, or an SMPL model folder)')
    faces = np.asarray(faces)
    if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
        raise ValueError(f'MeshVisualizer: expected integer faces of shape (F, 3), got '
                         f'{faces.dtype} {faces.shape}')
    return faces.astype(np.int64)


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


@VISUALIZERS.register_module()
class MeshVisualizer(PoseLocalVisualizer):
    """Draws the predicted (and optionally the ground-truth) mesh and 2D keypoints.

    Works with ``PoseVisualizationHook`` and ``mim test ... --show-dir``: the hook passes the
    original image (RGB) and the predicted data sample. The predicted mesh
    (``pred_instances.vertices`` (1, V, 3) m, root-relative) is placed in the full image with
    :func:`weak_perspective_to_translation` from ``pred_instances.camera`` (s, tx, ty) and the
    crop in the metainfo (``input_center``, ``input_scale``), rendered by the CPU renderer
    with an assumed focal length and alpha-blended over the image; then the 2D keypoints
    (``pred_instances.keypoints``, image px) are drawn by :class:`PoseLocalVisualizer`.
    Predictions of :class:`postometro_mm.apis.MeshInferencer` (N people of one image, with
    ``pred_instances.camera_translation`` and the metainfo ``focal_length``) are drawn as
    they are placed there, all people in one z-buffer, coloured by
    :func:`person_colors`. Meshes and the side view are drawn by
    :mod:`postometro_mm.visualization.scene`.

    With ``draw_gt=True`` a ground-truth panel is added on the left (mmpose's layout): the GT
    keypoints (crop px in this plugin's data samples) mapped back to the image, and, when a
    ``body_model`` is given and the sample has SMPL ground truth, the GT mesh built from
    ``gt_instances`` (``smpl_pose``, ``smpl_betas``, ``gender``) with the *predicted* camera,
    its vertex mean moved onto the predicted mesh's (the GT carries no camera translation).
    Heatmaps are not drawn (mesh models predict none).

    Args:
        name (str): name of the visualizer instance. Defaults to 'visualizer'.
        faces (str | np.ndarray): mesh faces (keyword only, required), see
            :func:`load_faces`.
        mesh_color (tuple): RGB 0-255 of the predicted mesh.
        gt_mesh_color (tuple): RGB 0-255 of the ground-truth mesh.
        mesh_alpha (float): opacity of the mesh over the image.
        focal_length (float, optional): assumed focal length (px) of the full image; ``None``
            uses the image diagonal ``sqrt(W^2 + H^2)``. Defaults to 5000 (nearly
            orthographic, like the weak-perspective model).
        side_view (bool): append a panel with the predicted meshes turned 90 degrees about
            the vertical axis, on a white background (:func:`draw_side_view`).
        body_model (dict, optional): a ``GenderedSMPL`` config to draw GT meshes.
        **kwargs: arguments of :class:`PoseLocalVisualizer` (vis_backends, save_dir,
            kpt_color, radius, line_width, ...).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 *,
                 faces: Union[str, np.ndarray],
                 mesh_color: Tuple[int, int, int] = (166, 188, 235),
                 gt_mesh_color: Tuple[int, int, int] = (235, 180, 150),
                 mesh_alpha: float = 0.8,
                 focal_length: Optional[float] = 5000.0,
                 side_view: bool = False,
                 body_model: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.faces = load_faces(faces)
        self.mesh_color = tuple(mesh_color)
        self.gt_mesh_color = tuple(gt_mesh_color)
        self.mesh_alpha = mesh_alpha
        self.focal_length = focal_length
        self.side_view = side_view
        self.body_model = MODELS.build(body_model).eval() if body_model else None

    # ------------------------------------------------------------------ geometry
    def _camera_frame_mesh(self, vertices: np.ndarray, camera: np.ndarray,
                           meta: dict, image_shape: Tuple[int, int]) -> Tuple[np.ndarray, float]:
        """Root-relative vertices + weak-perspective camera -> camera-frame vertices, focal."""
        for key in ('input_center', 'input_scale'):
            if key not in meta:
                raise KeyError(f'MeshVisualizer: data sample metainfo has no "{key}" (the '
                               'crop of the input); it is needed to place the mesh')
        height, width = image_shape
        focal = self.focal_length or float(np.hypot(width, height))
        principal = (width / 2.0, height / 2.0)
        transl = weak_perspective_to_translation(
            camera,
            _numpy(meta['input_center']).reshape(-1)[:2],
            float(_numpy(meta['input_scale']).reshape(-1)[0]), focal, principal)
        return vertices + transl, focal

    def _pred_meshes(self, data_sample: PoseDataSample, image_shape: Tuple[int, int]
                     ) -> Tuple[List[np.ndarray], List[Tuple[int, int, int]], float,
                                Optional[np.ndarray]]:
        """Camera-frame predicted meshes, their colours, focal length and principal point.

        With ``camera_translation`` (inference API) every person as placed there, with the
        metainfo's ``focal_length`` and ``principal_point``; otherwise (a crop of the test
        loop) the first instance placed from its weak-perspective camera and the crop.
        """
        pred = data_sample.pred_instances
        meta = data_sample.metainfo
        if 'camera_translation' in pred:
            if 'focal_length' not in meta:
                raise KeyError('MeshVisualizer: predictions with "camera_translation" need the '
                               'metainfo "focal_length" it was computed with')
            meshes, indices = people_in_camera(data_sample)
            principal = meta.get('principal_point')
            return (meshes, person_colors(indices), float(meta['focal_length']),
                    None if principal is None else _numpy(principal).reshape(2))
        verts, focal = self._camera_frame_mesh(
            _numpy(pred.vertices)[0].astype(np.float64), _numpy(pred.camera).reshape(-1, 3)[0],
            meta, image_shape)
        return [verts], [self.mesh_color], focal, None

    @torch.no_grad()
    def _gt_mesh(self, gt: InstanceData) -> Optional[np.ndarray]:
        if self.body_model is None or 'smpl_pose' not in gt:
            return None
        if 'has_smpl' in gt and _numpy(gt.has_smpl).reshape(-1)[0] <= 0:
            return None
        gender = _numpy(gt.gender).reshape(-1)[0].item() if 'gender' in gt else 0
        verts = self.body_model(
            torch.as_tensor(_numpy(gt.smpl_pose).reshape(1, 72), dtype=torch.float32),
            torch.as_tensor(_numpy(gt.smpl_betas).reshape(1, -1)[:, :10],
                            dtype=torch.float32),
            torch.tensor([gender_to_index(gender)], dtype=torch.int64))
        return _numpy(verts)[0].astype(np.float64)

    @staticmethod
    def _crop_to_image(points: np.ndarray, meta: dict) -> np.ndarray:
        """Crop-pixel points (..., 2) -> original-image pixels (no rotation at test time)."""
        size = _numpy(meta['input_size']).reshape(-1)[:2].astype(np.float64)
        center = _numpy(meta['input_center']).reshape(-1)[:2]
        scale = _numpy(meta['input_scale']).reshape(-1)[:2]
        return center + (points / size - 0.5) * scale

    # ------------------------------------------------------------------ panels
    def _pred_panels(self, image: np.ndarray, data_sample: PoseDataSample, kpt_thr: float,
                     show_kpt_idx: bool, skeleton_style: str, draw_bbox: bool) -> list:
        pred = data_sample.pred_instances
        panel = image.copy()
        side = None
        if 'vertices' in pred and 'camera' in pred and len(pred):
            meshes, colors, focal, principal = self._pred_meshes(data_sample, image.shape[:2])
            panel = draw_meshes(panel, meshes, self.faces, focal, principal, colors,
                                self.mesh_alpha)
            if self.side_view:
                side = draw_side_view(image.shape[:2], meshes, self.faces, focal, colors)
        panel = self._draw_instances_kpts(panel, pred, kpt_thr, show_kpt_idx, skeleton_style)
        if draw_bbox:
            panel = self._draw_instances_bbox(panel, pred)
        return [panel] if side is None else [panel, side]

    def _gt_panel(self, image: np.ndarray, data_sample: PoseDataSample, kpt_thr: float,
                  show_kpt_idx: bool, skeleton_style: str) -> np.ndarray:
        gt = data_sample.gt_instances
        meta = data_sample.metainfo
        panel = image.copy()
        gt_verts = self._gt_mesh(gt)
        pred = data_sample.get('pred_instances')
        if gt_verts is not None and pred is not None and 'vertices' in pred and \
                'camera' in pred:
            pred_verts = _numpy(pred.vertices)[0].astype(np.float64)
            gt_verts = gt_verts - gt_verts.mean(0) + pred_verts.mean(0)
            verts, focal = self._camera_frame_mesh(gt_verts,
                                                   _numpy(pred.camera).reshape(-1, 3)[0],
                                                   meta, image.shape[:2])
            panel = draw_meshes(panel, [verts], self.faces, focal, None, [self.gt_mesh_color],
                                self.mesh_alpha)
        if 'keypoints' in gt and 'input_size' in meta:
            kpts = InstanceData(
                keypoints=self._crop_to_image(_numpy(gt.keypoints).astype(np.float64), meta))
            if 'keypoints_visible' in gt:
                kpts.keypoints_visible = _numpy(gt.keypoints_visible)
            panel = self._draw_instances_kpts(panel, kpts, kpt_thr, show_kpt_idx,
                                              skeleton_style)
        return panel

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: PoseDataSample,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       draw_heatmap: bool = False,
                       draw_bbox: bool = False,
                       show_kpt_idx: bool = False,
                       skeleton_style: str = 'mmpose',
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       kpt_thr: float = 0.3,
                       step: int = 0) -> np.ndarray:
        """Draw the GT panel (left, if ``draw_gt``), the prediction panel and the optional
        side view side by side, then show / save / log it like
        :meth:`PoseLocalVisualizer.add_datasample` (same arguments; ``draw_heatmap`` is
        accepted for compatibility and has no effect).

        Args:
            image (np.ndarray): ``(H, W, 3)`` RGB uint8 original image.

        Returns:
            np.ndarray: the drawn RGB image.
        """
        panels = []
        if draw_gt and 'gt_instances' in data_sample:
            panels.append(
                self._gt_panel(image, data_sample, kpt_thr, show_kpt_idx, skeleton_style))
        if draw_pred and 'pred_instances' in data_sample:
            panels.extend(
                self._pred_panels(image, data_sample, kpt_thr, show_kpt_idx, skeleton_style,
                                  draw_bbox))
        drawn = np.concatenate(panels, axis=1) if panels else image.copy()
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)
        return self.get_image()
