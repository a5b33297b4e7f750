"""Frames of an image file, a folder of images, a video file or a webcam, as BGR arrays."""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Iterator, List, Optional

import cv2
import numpy as np

from .inference import InferenceInputError, read_image

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg', '.wmv')


@dataclass
class Frame:
    """One input frame.

    Attributes:
        name (str): file stem of the image or video (``webcam`` for a camera).
        index (int): frame index in its source (0 for single images).
        image (np.ndarray | None): BGR uint8 (H, W, 3); None when it could not be read.
        path (str | None): image file, if any.
        error (str | None): why the image could not be read (folder inputs go on with the
            next image).
    """
    name: str
    index: int
    image: Optional[np.ndarray]
    path: Optional[str] = None
    error: Optional[str] = None


class FrameSource:
    """Iterate over the frames of one input; see :func:`open_source`.

    Attributes:
        kind (str): 'image', 'folder', 'video' or 'webcam'.
        name (str): stem used to name outputs.
        fps (float | None): frame rate of videos and webcams.
        num_frames (int | None): number of frames when known (after ``max_frames``).
    """

    def __init__(self, kind: str, name: str, files: Optional[List[str]] = None,
                 capture: Optional[cv2.VideoCapture] = None,
                 first_frame: Optional[np.ndarray] = None, fps: Optional[float] = None,
                 num_frames: Optional[int] = None, max_frames: Optional[int] = None) -> None:
        self.kind = kind
        self.name = name
        self.fps = fps
        self.files = files or []
        self._capture = capture
        self._first_frame = first_frame
        self.max_frames = max_frames
        if num_frames is not None and max_frames is not None:
            num_frames = min(num_frames, max_frames)
        self.num_frames = num_frames

    def __iter__(self) -> Iterator[Frame]:
        if self._capture is None:
            for index, path in enumerate(self.files[:self.max_frames]):
                stem = osp.splitext(osp.basename(path))[0]
                try:
                    image, _ = read_image(path)
                except InferenceInputError as err:
                    yield Frame(stem, index, None, path, str(err))
                    continue
                yield Frame(stem, index, image, path)
            return
        index = 0
        image = self._first_frame
        try:
            while image is not None and (self.max_frames is None or index < self.max_frames):
                yield Frame(self.name, index, image)
                index += 1
                ok, image = self._capture.read()
                image = image if ok else None
        finally:
            self.close()

    def close(self) -> None:
        """Release the video file or camera."""
        if self._capture is not None:
            self._capture.release()


def _open_capture(target, description: str) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(target)
    if not capture.isOpened():
        capture.release()
        raise InferenceInputError(f'{description} cannot be opened (missing, corrupt, or a '
                                  'codec OpenCV cannot decode)')
    return capture


def open_source(spec: str, max_frames: Optional[int] = None) -> FrameSource:
    """Open an input by name.

    Args:
        spec (str): an image file, a folder (its images, sorted by name; not recursive), a
            video file, or ``webcam`` / ``webcam:<id>`` for camera ``id`` (default 0).
        max_frames (int, optional): stop after this many frames / images.

    Returns:
        FrameSource: the frames.

    Raises:
        InferenceInputError: a missing path, a folder without images, an unknown file
            type, an unreadable single image, or a video / camera that gives no frame.
    """
    spec = str(spec)
    if max_frames is not None and max_frames < 1:
        raise InferenceInputError(f'max_frames must be >= 1, got {max_frames}')
    if spec == 'webcam' or spec.startswith('webcam:'):
        cam_id = spec.partition(':')[2] or '0'
        if not cam_id.isdigit():
            raise InferenceInputError(f'webcam input "{spec}": expected webcam:<number>')
        capture = _open_capture(int(cam_id), f'webcam {cam_id}')
        ok, first = capture.read()
        if not ok:
            capture.release()
            raise InferenceInputError(f'webcam {cam_id} gives no frame')
        fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
        return FrameSource('webcam', 'webcam', capture=capture, first_frame=first, fps=fps,
                           max_frames=max_frames)
    if osp.isdir(spec):
        files = sorted(osp.join(spec, f) for f in os.listdir(spec)
                       if f.lower().endswith(IMAGE_EXTENSIONS))
        if not files:
            raise InferenceInputError(f'folder "{spec}" has no images '
                                      f'({", ".join(IMAGE_EXTENSIONS)})')
        return FrameSource('folder', osp.basename(osp.normpath(spec)), files=files,
                           num_frames=len(files), max_frames=max_frames)
    if not osp.isfile(spec):
        raise InferenceInputError(f'input "{spec}" does not exist')
    stem, ext = osp.splitext(osp.basename(spec))
    if ext.lower() in IMAGE_EXTENSIONS:
        read_image(spec)  # a single unreadable image is an error, not a skipped frame
        return FrameSource('image', stem, files=[spec], num_frames=1)
    if ext.lower() in VIDEO_EXTENSIONS:
        capture = _open_capture(spec, f'video "{spec}"')
        ok, first = capture.read()
        if not ok:
            capture.release()
            raise InferenceInputError(f'video "{spec}" has no readable frame (corrupt file or '
                                      'a codec OpenCV cannot decode)')
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        return FrameSource('video', stem, capture=capture, first_frame=first,
                           fps=capture.get(cv2.CAP_PROP_FPS) or 25.0,
                           num_frames=count if count > 0 else None, max_frames=max_frames)
    raise InferenceInputError(f'input "{spec}": unknown file type "{ext}" (images: '
                              f'{", ".join(IMAGE_EXTENSIONS)}; videos: '
                              f'{", ".join(VIDEO_EXTENSIONS)})')
