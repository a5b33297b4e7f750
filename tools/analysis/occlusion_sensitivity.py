"""Occlusion sensitivity of a mesh model (PostoMETRO paper Fig. 4, 9, 10).

A grey square slides over the person crop; at every position the model runs on the occluded
crop and the error of each of the 14 evaluation joints (J14 from the predicted mesh, both sides
centred on the mid-hip as in protocol A, mm) is recorded. Every crop pixel then gets the mean
error of the occluder positions that covered it, one map per joint plus their mean, drawn as
heat maps over the crop (one shared colour scale, printed on each map).

The reference joints are the ground truth of a test-set sample (``--dataset-index``, its
``joints_3d`` J24 → J14; needs the test dataset of the config) or, for any image
(``--img``, optional ``--bbox``), the model's own prediction on the unoccluded crop (the map
then shows how much hiding a region changes the prediction).

    python tools/analysis/occlusion_sensitivity.py CONFIG CHECKPOINT --img person.jpg \\
        --out-dir occlusion/ [--bbox X1 Y1 X2 Y2] [--patch-size 40] [--stride 10]
    python tools/analysis/occlusion_sensitivity.py CONFIG CHECKPOINT --dataset-index 123 \\
        --out-dir occlusion/

Outputs in ``--out-dir``: ``occlusion_mean.png``, ``occlusion_<joint>.png`` for the 14 joints,
``occlusion_joints.png`` (all maps in a grid) and ``occlusion_errors.npz`` (``errors``
(ny, nx, 14) mm per occluder position, ``ys``/``xs`` top-left corners in crop px,
``patch_size``, ``unoccluded_errors`` (14,), ``joint_names``).
"""
import argparse
import os
import os.path as osp
import sys
from copy import deepcopy
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from torch import nn

from postometro_mm.body_models.joint_sets import J14_HIP_INDICES, J14_NAMES, J24_TO_J14

DEFAULT_FILL = (104, 116, 124)  # ImageNet mean in BGR order: an "average image" grey


def occluder_positions(input_size: Tuple[int, int], patch_size: int,
                       stride: int) -> Tuple[np.ndarray, np.ndarray]:
    """Top-left corners (ys, xs) of the occluder on a (W, H) crop, the last position touching
    the crop's far edge."""
    width, height = input_size
    if not 0 < patch_size <= min(width, height) or stride < 1:
        raise ValueError(f'patch_size must be in (0, {min(width, height)}] and stride >= 1, '
                         f'got {patch_size} and {stride}')

    def axis(length: int) -> np.ndarray:
        last = length - patch_size
        return np.unique(np.append(np.arange(0, last + 1, stride), last))

    return axis(height), axis(width)


def centred_on_mid_hip(joints: np.ndarray) -> np.ndarray:
    """(..., 14, 3) J14 joints minus the mean of the two hips (J14 indices 2 and 3)."""
    return joints - joints[..., list(J14_HIP_INDICES), :].mean(axis=-2, keepdims=True)


@torch.no_grad()
def predict_j14(model: nn.Module, inputs: torch.Tensor, data_sample) -> np.ndarray:
    """J14 predictions (B, 14, 3) m for a batch of uint8 crops (B, 3, H, W) sharing one
    packed data sample."""
    batch = dict(inputs=list(inputs), data_samples=[deepcopy(data_sample) for _ in inputs])
    samples = model.test_step(batch)
    return np.concatenate([s.pred_instances.keypoints_3d for s in samples]).astype(np.float64)


def occlusion_errors(model: nn.Module, inputs: torch.Tensor, data_sample,
                     reference: Optional[np.ndarray] = None, patch_size: int = 40,
                     stride: int = 10, fill: Sequence[int] = DEFAULT_FILL,
                     batch_size: int = 16) -> Dict[str, np.ndarray]:
    """Per-joint error for every occluder position.

    Args:
        model (nn.Module): mesh estimator (eval mode).
        inputs (Tensor): (3, H, W) uint8 crop as packed by the pipeline (BGR).
        data_sample (PoseDataSample): its packed data sample (metainfo of the crop).
        reference (np.ndarray, optional): (14, 3) reference joints, m; None = the prediction
            on the unoccluded crop.
        patch_size (int): occluder side, crop px.
        stride (int): occluder step, crop px.
        fill (Sequence[int]): occluder colour in the crop's channel order.
        batch_size (int): occluded crops per forward pass.

    Returns:
        dict: ``errors`` (ny, nx, 14) mm, ``ys`` (ny,), ``xs`` (nx,), ``unoccluded_errors``
        (14,) mm, ``reference`` (14, 3) m.
    """
    height, width = inputs.shape[1:]
    ys, xs = occluder_positions((width, height), patch_size, stride)
    unoccluded = predict_j14(model, inputs[None], data_sample)[0]
    reference = unoccluded if reference is None else np.asarray(reference, np.float64)
    ref = centred_on_mid_hip(reference)
    fill_t = torch.as_tensor(fill, dtype=inputs.dtype).view(3, 1, 1)
    corners = [(y, x) for y in ys for x in xs]
    errors = []
    for start in range(0, len(corners), batch_size):
        batch = inputs[None].repeat(len(corners[start:start + batch_size]), 1, 1, 1)
        for crop, (y, x) in zip(batch, corners[start:start + batch_size]):
            crop[:, y:y + patch_size, x:x + patch_size] = fill_t
        pred = centred_on_mid_hip(predict_j14(model, batch, data_sample))
        errors.append(1000.0 * np.linalg.norm(pred - ref, axis=-1))
    unoccluded_errors = 1000.0 * np.linalg.norm(centred_on_mid_hip(unoccluded) - ref, axis=-1)
    return dict(errors=np.concatenate(errors).reshape(len(ys), len(xs), -1), ys=ys, xs=xs,
                unoccluded_errors=unoccluded_errors, reference=reference)


def error_maps(errors: np.ndarray, ys: np.ndarray, xs: np.ndarray, patch_size: int,
               input_size: Tuple[int, int]) -> np.ndarray:
    """Per-pixel maps (H, W, J): the mean error of the occluder positions covering each pixel
    (positions cover every pixel by construction of :func:`occluder_positions`)."""
    width, height = input_size
    total = np.zeros((height, width, errors.shape[-1]))
    count = np.zeros((height, width, 1))
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            total[y:y + patch_size, x:x + patch_size] += errors[i, j]
            count[y:y + patch_size, x:x + patch_size] += 1
    return total / np.maximum(count, 1)


def heatmap_overlay(crop_bgr: np.ndarray, values: np.ndarray, vmax: float, title: str,
                    alpha: float = 0.55) -> np.ndarray:
    """JET heat map of ``values`` (H, W) on a 0..``vmax`` mm scale over the crop, with the
    title and the scale written on it (BGR uint8)."""
    scaled = np.clip(values / max(vmax, 1e-9) * 255.0, 0, 255).astype(np.uint8)
    colored = cv2.applyColorMap(scaled, cv2.COLORMAP_JET)
    out = cv2.addWeighted(crop_bgr, 1.0 - alpha, colored, alpha, 0.0)
    font_scale = max(out.shape[0] / 512.0, 0.25)
    for text, row in ((title, 1), (f'0-{vmax:.0f} mm', 2)):
        org = (3, int(row * 22 * font_scale) + 2)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), 2,
                    cv2.LINE_AA)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return out


def write_heatmaps(out_dir: str, crop_bgr: np.ndarray, maps: np.ndarray,
                   joint_names: Sequence[str] = J14_NAMES, columns: int = 5) -> Dict[str, str]:
    """Write ``occlusion_mean.png``, ``occlusion_<joint>.png`` and the grid
    ``occlusion_joints.png`` (mean first); returns name → path."""
    os.makedirs(out_dir, exist_ok=True)
    vmax = float(maps.max())
    tiles = {'mean': heatmap_overlay(crop_bgr, maps.mean(axis=-1), vmax, 'mean')}
    for k, name in enumerate(joint_names):
        tiles[name] = heatmap_overlay(crop_bgr, maps[..., k], vmax, name)
    paths = {}
    for name, tile in tiles.items():
        paths[name] = osp.join(out_dir, f'occlusion_{name}.png')
        cv2.imwrite(paths[name], tile)
    blank = np.zeros_like(crop_bgr)
    ordered = list(tiles.values())
    ordered += [blank] * (-len(ordered) % columns)
    rows = [np.concatenate(ordered[i:i + columns], axis=1)
            for i in range(0, len(ordered), columns)]
    paths['grid'] = osp.join(out_dir, 'occlusion_joints.png')
    cv2.imwrite(paths['grid'], np.concatenate(rows, axis=0))
    return paths


def load_image_crop(model: nn.Module, img: str, bbox: Optional[Sequence[float]] = None):
    """Packed crop (inputs, data_sample) of an image and box (default: the whole image)."""
    from postometro_mm.apis import read_image
    from postometro_mm.apis.inference import normalize_bboxes
    image, path = read_image(img)
    boxes, scores = normalize_bboxes(None if bbox is None else [bbox], image.shape[:2])
    packed = model.inference_pipeline(dict(img=image, img_path=path, bbox=boxes[:1],
                                           bbox_score=scores[:1]))
    return packed['inputs'], packed['data_samples']


def load_dataset_crop(model: nn.Module, index: int):
    """Packed crop of test-set sample ``index`` and its ground-truth J14 joints (14, 3) m."""
    from mmengine.registry import DefaultScope

    from mmpose.registry import DATASETS
    cfg = model.cfg
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpose')):
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
    if not 0 <= index < len(dataset):
        raise IndexError(f'--dataset-index {index} is outside the test set (size {len(dataset)})')
    packed = dataset[index]
    joints = packed['data_samples'].gt_instance_labels.joints_3d[0, J24_TO_J14].numpy()
    if not np.all(joints[:, 3] > 0):
        raise ValueError(f'test sample {index} lacks 3D ground truth for some of the 14 '
                         'joints: use --img to compare with the unoccluded prediction')
    return packed['inputs'], packed['data_samples'], joints[:, :3].astype(np.float64)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='mesh model config')
    parser.add_argument('checkpoint', help='mesh model checkpoint')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--img', help='an image (reference: the unoccluded prediction)')
    source.add_argument('--dataset-index', type=int,
                        help='a sample of the config\'s test set (reference: its ground truth)')
    parser.add_argument('--bbox', type=float, nargs=4, metavar=('X1', 'Y1', 'X2', 'Y2'),
                        help='person box in --img (default: the whole image)')
    parser.add_argument('--out-dir', required=True, help='folder for the heat maps')
    parser.add_argument('--patch-size', type=int, default=40, help='occluder side, crop px')
    parser.add_argument('--stride', type=int, default=10, help='occluder step, crop px')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--device', default=None)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from postometro_mm.apis import init_model
    from postometro_mm.utils.cli import USER_INPUT_ERRORS, error_message
    try:
        model = init_model(args.config, args.checkpoint, device=args.device)
        if args.img is not None:
            inputs, sample = load_image_crop(model, args.img, args.bbox)
            reference = None
        else:
            inputs, sample, reference = load_dataset_crop(model, args.dataset_index)
    except USER_INPUT_ERRORS as err:  # files, values, refused pickles
        print(f'occlusion_sensitivity: error: {error_message(err)}', file=sys.stderr)
        return 1
    result = occlusion_errors(model, inputs, sample, reference, args.patch_size, args.stride,
                              batch_size=args.batch_size)
    height, width = inputs.shape[1:]
    maps = error_maps(result['errors'], result['ys'], result['xs'], args.patch_size,
                      (width, height))
    crop = np.ascontiguousarray(inputs.permute(1, 2, 0).numpy())
    paths = write_heatmaps(args.out_dir, crop, maps)
    np.savez(osp.join(args.out_dir, 'occlusion_errors.npz'), errors=result['errors'],
             ys=result['ys'], xs=result['xs'], patch_size=args.patch_size,
             unoccluded_errors=result['unoccluded_errors'], joint_names=np.array(J14_NAMES))
    worst = np.unravel_index(result['errors'].mean(-1).argmax(), result['errors'].shape[:2])
    print(f'{result["errors"].shape[0] * result["errors"].shape[1]} occluder positions; '
          f'unoccluded mean error {result["unoccluded_errors"].mean():.1f} mm; worst position '
          f'(y={result["ys"][worst[0]]}, x={result["xs"][worst[1]]}): '
          f'{result["errors"].mean(-1)[worst]:.1f} mm; maps in {osp.dirname(paths["grid"])}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
