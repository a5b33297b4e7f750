"""3D human mesh recovery demo: images, image folders, videos and webcams.

People come from an mmdet detector (any mmdet config + checkpoint, e.g. the RTMDet or Faster
R-CNN configs shipped with mmdet), from boxes given on the command line, or, by default, the
whole frame is one person. Outputs, in ``--out-dir``:

* ``<name>.jpg`` per image, ``<name>.mp4`` per video / webcam: the meshes rendered over the
  frame, then optionally a side view (``--side-view``) and the 2D pose decoded from the pose
  tokens (``--draw-pose-2d``, paper Fig. 3 b) as extra panels to the right;
* ``<name>.json``: per frame and person the box, cameras, 3D joints and 2D keypoints
  (``--no-json`` to skip);
* ``meshes/<name>[_frame<k>]_person<i>.obj|.ply`` with ``--save-mesh obj ply``.

Examples::

    # whole image as the person box
    python demo/mesh_demo.py CONFIG CHECKPOINT --input person.jpg --out-dir out/
    # RTMDet from mmdet's packaged configs, a video, side view and decoded 2D pose
    python demo/mesh_demo.py CONFIG CHECKPOINT --input clip.mp4 --out-dir out/ \\
        --det-config rtmdet/rtmdet_m_8xb32-300e_coco.py --det-checkpoint rtmdet_m.pth \\
        --side-view --draw-pose-2d --save-mesh obj
    # webcam 0, shown in a window (q or Esc stops)
    python demo/mesh_demo.py CONFIG CHECKPOINT --input webcam --show
    # ONNX Runtime on the CPU, a graph of tools/deployment/pytorch2onnx.py (fp32 or --int8)
    python demo/mesh_demo.py CONFIG model.onnx --backend onnxruntime --threads 2 \
        --input clip.mp4 --out-dir out/
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Tuple

# Run from a source checkout, the demo uses that checkout's package (not an installed copy).
_REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if osp.isfile(osp.join(_REPO, 'postometro_mm', '__init__.py')):
    sys.path.insert(0, _REPO)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

from postometro_mm.apis import (  # noqa: E402
    BACKENDS, InferenceInputError, MeshInferencer, open_source, prediction_records,
    save_person_meshes)
from postometro_mm.apis.exporters import (  # noqa: E402
    MESH_FORMATS, MESH_SPACES, RECORD_LEGEND)
from postometro_mm.apis.frame_sources import IMAGE_EXTENSIONS  # noqa: E402
from postometro_mm.utils.checkpoint_loading import allow_unsafe_checkpoints  # noqa: E402
from postometro_mm.utils.cli import USER_INPUT_ERRORS, error_message  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='3D human mesh recovery demo (postometro_mm)',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('Examples::')[1])
    parser.add_argument('config', help='mesh model config file')
    parser.add_argument('checkpoint', help='mesh model checkpoint file')
    parser.add_argument('--input', required=True,
                        help='image, folder of images, video file, or webcam[:id]')
    parser.add_argument('--out-dir', help='folder for the outputs (none written if omitted)')
    parser.add_argument('--device', default=None, help='e.g. cpu or cuda:0 (default: CUDA '
                        'if available)')
    det = parser.add_argument_group('person detector (mmdet)')
    det.add_argument('--det-config', help='mmdet config file, or a path under mmdet\'s '
                     'packaged configs (e.g. rtmdet/rtmdet_m_8xb32-300e_coco.py)')
    det.add_argument('--det-checkpoint', help='detector weights (random if omitted: testing '
                     'only)')
    det.add_argument('--det-cat-ids', type=int, nargs='+', default=[0],
                     help='detector classes counted as people (COCO person = 0)')
    det.add_argument('--bbox-thr', type=float, default=0.3, help='minimum detection score')
    det.add_argument('--nms-thr', type=float, default=0.3, help='NMS IoU threshold')
    det.add_argument('--max-persons', type=int, help='keep the best N detections per frame')
    box = parser.add_argument_group('user boxes (instead of a detector)')
    box.add_argument('--bboxes', type=float, nargs='+', metavar='V',
                     help='boxes used for every frame, 4 numbers each')
    box.add_argument('--bbox-format', choices=['xyxy', 'xywh'], default='xyxy')
    out = parser.add_argument_group('outputs')
    out.add_argument('--side-view', action='store_true', help='add a side-view panel')
    out.add_argument('--draw-pose-2d', action='store_true',
                     help='add a panel with the 2D pose decoded from the pose tokens')
    out.add_argument('--save-mesh', nargs='+', choices=MESH_FORMATS, default=[],
                     help='write a mesh file per person and frame')
    out.add_argument('--mesh-space', choices=MESH_SPACES, default='camera',
                     help='camera: placed in the full-image camera; root: root-relative')
    out.add_argument('--no-json', action='store_true', help='do not write the JSON results')
    out.add_argument('--show', action='store_true', help='show the frames in a window')
    out.add_argument('--alpha', type=float, default=0.8, help='mesh opacity')
    run = parser.add_argument_group('run')
    run.add_argument('--batch-size', type=int,
                     help='crops per forward pass; the crops of consecutive video frames and '
                     'folder images share a batch (a webcam\'s frames go through one by one). '
                     'Default: 16 on a GPU, 1 on the CPU (larger batches are not faster per '
                     'crop there and hold frames back from the other workers)')
    run.add_argument('--no-overlap', action='store_true',
                     help='read, predict and draw one frame after the other (default: reading, '
                     'detection + inference and drawing + writing overlap in threads)')
    run.add_argument('--backend', choices=BACKENDS, default='pytorch',
                     help='mesh model backend; onnxruntime: CHECKPOINT is the .onnx file of '
                     'tools/deployment/pytorch2onnx.py (fp32 or int8), run on the CPU')
    run.add_argument('--threads', type=int,
                     help='intra-op threads of each mesh-model worker (default: the cores / '
                     '--workers)')
    run.add_argument('--workers', type=int,
                     help='batches run through the mesh model at the same time, each in its '
                     'own thread (default: videos and folders one per core, with --threads 1; '
                     'a single image 1)')
    run.add_argument('--focal-length', type=float,
                     help='assumed focal length in px (default: the image diagonal)')
    run.add_argument('--max-frames', type=int, help='stop after this many frames / images')
    run.add_argument('--unsafe-load', action='store_true',
                     help='unpickle the checkpoints in full, also classes off the allow-list '
                     '(only for files you trust: loading them can run code)')
    args = parser.parse_args(argv)
    if args.bboxes is not None and len(args.bboxes) % 4:
        parser.error(f'--bboxes takes 4 numbers per box, got {len(args.bboxes)}')
    if args.bboxes is not None and args.det_config:
        parser.error('give either --bboxes or --det-config, not both')
    if not (args.out_dir or args.show):
        parser.error('nothing to do: give --out-dir and/or --show')
    for name in ('batch_size', 'threads', 'workers'):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1, got '
                         f'{getattr(args, name)}')
    if args.max_persons is not None and args.max_persons < 1:
        parser.error(f'--max-persons must be at least 1, got {args.max_persons}')
    return args


class DisplayError(RuntimeError):
    """``--show`` without a usable display."""


def show_frame(frame_bgr: np.ndarray, wait_ms: int) -> bool:
    """Show a frame; returns False when the user pressed q or Esc."""
    try:
        cv2.imshow('postometro_mm mesh demo', frame_bgr)
        return cv2.waitKey(wait_ms) & 0xFF not in (ord('q'), 27)
    except cv2.error as err:
        raise DisplayError(f'--show cannot open a window (no display?): {err}') from None


class VideoSink:
    """An mp4 writer opened at the first frame (its size is known only then)."""

    def __init__(self, path: str, fps: float) -> None:
        self.path = path
        self.fps = fps
        self.writer = None

    def write(self, frame_bgr: np.ndarray) -> None:
        if self.writer is None:
            height, width = frame_bgr.shape[:2]
            self.writer = cv2.VideoWriter(self.path, cv2.VideoWriter_fourcc(*'mp4v'),
                                          self.fps, (width, height))
            if not self.writer.isOpened():
                raise InferenceInputError(f'cannot write the video "{self.path}"')
        self.writer.write(frame_bgr)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()


def _frame_label(frame, kind: str) -> str:
    return frame.path if kind in ('image', 'folder') else f'{frame.name} frame {frame.index}'


def inference_layout(args: argparse.Namespace) -> Tuple[Optional[int], int, int]:
    """The mesh model's intra-op threads, concurrent workers and batch size where the
    arguments leave them unset. On the CPU ``workers × threads`` = the cores this process may
    use, so that neither oversubscribes them: a video, folder or webcam gets one single-threaded
    worker per core (on 2 cores the demo ran PostoMETRO-S 1.05× to 1.35× faster than frame by
    frame with 2 threads), a single image one worker with every core; batches of 1. On a GPU
    (pytorch backend on CUDA): one worker, torch's CPU threads as they are, batches of 16."""
    import torch
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device.startswith('cuda') and args.backend == 'pytorch':
        return args.threads, args.workers or 1, args.batch_size or 16
    single_image = (osp.isfile(args.input)
                    and osp.splitext(args.input)[1].lower() in IMAGE_EXTENSIONS)
    workers = args.workers or (1 if single_image else max(1, cores // (args.threads or 1)))
    return args.threads or max(1, cores // workers), workers, args.batch_size or 1


def run(args: argparse.Namespace) -> int:
    """Process the input; returns the exit status."""
    if args.unsafe_load:
        allow_unsafe_checkpoints()  # the mesh model's and the detector's checkpoints
    threads, workers, batch_size = inference_layout(args)
    inferencer = MeshInferencer(
        args.config, args.checkpoint, device=args.device, det_model=args.det_config,
        det_weights=args.det_checkpoint, det_cat_ids=args.det_cat_ids, bbox_thr=args.bbox_thr,
        nms_thr=args.nms_thr, max_persons=args.max_persons, batch_size=batch_size,
        focal_length=args.focal_length, backend=args.backend, threads=threads,
        workers=workers)
    if args.draw_pose_2d and not inferencer.has_decoded_pose:
        raise InferenceInputError(
            '--draw-pose-2d needs a model with a pose tokenizer (pose_token_source "pct"); '
            f'{args.config} has pose_token_source='
            f'{getattr(inferencer.model, "pose_token_source", None)!r}')
    source = open_source(args.input, args.max_frames)
    bboxes = None if args.bboxes is None else np.asarray(args.bboxes).reshape(-1, 4)
    is_video = source.kind in ('video', 'webcam')
    mesh_dir = osp.join(args.out_dir, 'meshes') if args.out_dir and args.save_mesh else None
    for folder in filter(None, (args.out_dir, mesh_dir)):
        os.makedirs(folder, exist_ok=True)
    sink = (VideoSink(osp.join(args.out_dir, f'{source.name}.mp4'), source.fps)
            if is_video and args.out_dir else None)
    progress = (ProgressBar(source.num_frames, file=sys.stdout)
                if source.num_frames and source.num_frames > 1 else None)
    video_records, skipped, num_people, num_frames = [], [], 0, 0
    no_person = 'no person found' + (f' (detector score threshold {args.bbox_thr})'
                                     if args.det_config else '')
    start = time.perf_counter()
    try:
        for result in inferencer(source, bboxes=bboxes, bbox_format=args.bbox_format,
                                 side_view=args.side_view, pose_2d=args.draw_pose_2d,
                                 alpha=args.alpha, overlap=not args.no_overlap):
            frame, sample = result['frame'], result['predictions']
            if progress is not None:
                progress.update()
            if sample is None:
                skipped.append(frame.path)
                print(f'\nskipped {result["error"]}', file=sys.stderr)
                continue
            num_frames += 1
            num_people += len(sample.pred_instances)
            if len(sample.pred_instances) == 0:
                print(f'\n{_frame_label(frame, source.kind)}: {no_person}')
            vis_bgr = np.ascontiguousarray(result['visualization'][..., ::-1])
            stem = f'{frame.name}_frame{frame.index:06d}' if is_video else frame.name
            record = dict(frame_index=frame.index, image=frame.path or frame.name,
                          **prediction_records(sample))
            if args.out_dir:
                if sink is not None:
                    sink.write(vis_bgr)
                    video_records.append(record)
                else:
                    cv2.imwrite(osp.join(args.out_dir, f'{frame.name}.jpg'), vis_bgr)
                    if not args.no_json:
                        _write_json(osp.join(args.out_dir, f'{frame.name}.json'), args,
                                    [record])
                if mesh_dir:
                    save_person_meshes(sample, inferencer.faces, osp.join(mesh_dir, stem),
                                       args.save_mesh, args.mesh_space)
            if args.show and not show_frame(vis_bgr, 1 if is_video else 0):
                break
    finally:
        source.close()
        if sink is not None:
            sink.close()
        if args.show:
            with contextlib.suppress(cv2.error):  # no window was opened without a display
                cv2.destroyAllWindows()
    elapsed = time.perf_counter() - start
    if sink is not None and not args.no_json:
        _write_json(osp.join(args.out_dir, f'{source.name}.json'), args, video_records)
    print(f'\nprocessed {num_frames} frame(s), {num_people} person(s) in {elapsed:.1f} s '
          f'({num_frames / max(elapsed, 1e-9):.2f} frames/s)'
          + (f'; outputs in {args.out_dir}' if args.out_dir else ''))
    if skipped:
        print(f'skipped {len(skipped)} unreadable image(s): {", ".join(skipped)}',
              file=sys.stderr)
    return 0


def _write_json(path: str, args: argparse.Namespace, frames: list) -> None:
    with open(path, 'w') as f:
        json.dump(dict(legend=RECORD_LEGEND, config=args.config, checkpoint=args.checkpoint,
                       input=args.input, frames=frames), f)


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point: bad inputs, configs or checkpoints print one clear message
    and return status 1."""
    args = parse_args(argv)
    try:
        return run(args)
    except (DisplayError, *USER_INPUT_ERRORS) as err:  # files, values, refused pickles
        print(f'mesh_demo: error: {error_message(err)}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
