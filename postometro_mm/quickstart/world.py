"""The quickstart's synthetic world: people from an SMPL-format body model in random plausible
poses, rendered over random backgrounds with random occluders, written in the formats the
real dataset classes read.

Layout of ``out_dir`` (every split folder is also a 3DPW-style root)::

    manifest.json                     arguments, counts and paths of the finished world
    body_model/                       the default synthetic body model (when none is given)
    <split>/                          train, test, test_occluded
        split.json                    the split's arguments, count and visibility statistics
        quickstart_<split>.npz        SPIN-style annotations (SPINNpzDataset, data_root=<split>)
        imageFiles/<seq>/image_XXXXX.jpg
        masks/<seq>/image_XXXXX.png   0 background, 1 visible body, 2 occluder
    test/sequenceFiles/test/<seq>.pkl official-format 3DPW sequence files of the test split
    test/pw3d_test.npz                ... converted by the real 3DPW converter (PW3DDataset;
                                      its pw3d_occ / pw3d_pc files are empty here)

People come in sequences of ``frames_per_sequence`` frames that share a subject (gender and
shape, as a 3DPW sequence does); every frame has its own pose, orientation, placement,
background, colours, light and occluders. Sample ``i`` of a split depends only on the seed,
the split and ``i`` (not on the split's size). Each split is written into a temporary folder
and renamed when complete; a rerun with the same arguments reuses the finished splits.
"""
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Optional, Tuple, Union

import cv2
import numpy as np
import torch
from tqdm import tqdm

from postometro_mm.body_models import (SMPL, load_joint_regressor, load_smpl_model_file,
                                       mesh_to_j24, resolve_smpl_path,
                                       write_synthetic_body_model)
from postometro_mm.body_models.joint_sets import J24_TO_COCO17
from postometro_mm.datasets.converters import convert_pw3d
from .occluders import HEAVY_OCCLUSION, LIGHT_OCCLUSION, OcclusionLevel
from .pose_sampling import (sample_betas, sample_body_pose, sample_gender,
                            sample_global_orient)
from .pw3d_format import PW3DSequenceWriter
from .scene import (OCCLUDER, OUTSIDE_IMAGE, SELF_OCCLUDED, VISIBLE, PinholeCamera,
                    part_labels, place_person, render_person)

FORMAT_VERSION = 'postometro_mm.quickstart_world.v1'
MANIFEST_NAME = 'manifest.json'
SPLIT_INFO_NAME = 'split.json'
#: Box side = this factor x the larger side of the projected body's box (as 3DPW's converter).
BOX_SCALE_FACTOR = 1.2
#: JPEG quality of the images.
JPEG_QUALITY = 95
#: The split that is also written as 3DPW sequence files and converted.
PW3D_SPLIT = 'test'
_SMPL_HASH_KEYS = ('v_template', 'shapedirs', 'posedirs', 'J_regressor', 'weights', 'f',
                   'kintree_table')
_GENDER_NAMES = {'m': 'male', 'f': 'female'}


@dataclass(frozen=True)
class SplitSpec:
    """How a split is generated.

    Attributes:
        code: the split's index in the seed sequence (keeps splits independent).
        occlusion: occluder statistics.
        min_visible_keypoints: COCO-17 keypoints that occluders must leave visible.
    """
    code: int
    occlusion: OcclusionLevel
    min_visible_keypoints: int


SPLITS: Dict[str, SplitSpec] = {
    'train': SplitSpec(0, LIGHT_OCCLUSION, 8),
    'test': SplitSpec(1, LIGHT_OCCLUSION, 8),
    'test_occluded': SplitSpec(2, HEAVY_OCCLUSION, 4),
}


def _rng(seed: int, split_code: int, stream: int, index: int) -> np.random.Generator:
    """Independent generator of one (split, stream, index); streams: 0 subjects, 1 frames,
    2 3DPW camera poses."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(split_code, stream,
                                                                         index)))


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, so that float32 reductions, and hence
    the world's files, do not depend on the caller's thread count (deterministic by seed)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class SyntheticPeople:
    """Male and female SMPL bodies with their J24 joints and per-part labels.

    Args:
        model_dir: folder with ``SMPL_{MALE,FEMALE}.{npz,pkl}``.
        j_regressor_extra: ``J_regressor_extra.npy`` (14, V).
    """

    def __init__(self, model_dir: str, j_regressor_extra: str) -> None:
        self.models = {g: SMPL(model_dir, gender=name) for g, name in _GENDER_NAMES.items()}
        self.extra_regressor = load_joint_regressor(j_regressor_extra)
        self.faces = self.models['m'].faces
        self.parts = {}
        for gender, name in _GENDER_NAMES.items():
            weights = load_smpl_model_file(resolve_smpl_path(model_dir, name))['weights']
            self.parts[gender] = part_labels(np.asarray(weights), self.faces)

    @torch.no_grad()
    def pose(self, gender: str, pose: np.ndarray,
             betas: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vertices (V, 3), SMPL joints (24, 3) and J24 joints (24, 3), float64 metres, of one
        person posed by ``pose`` (72,) (no translation).

        Runs on one intra-op thread (see :func:`one_torch_thread`).
        """
        model = self.models[gender]
        p = torch.as_tensor(pose, dtype=torch.float32)[None]
        with one_torch_thread():
            out = model(betas=torch.as_tensor(betas, dtype=torch.float32)[None],
                        body_pose=p[:, 3:], global_orient=p[:, :3])
            j24 = mesh_to_j24(out['vertices'], model.joint_regressor, self.extra_regressor)
        return (out['vertices'][0].double().numpy(), out['joints'][0].double().numpy(),
                j24[0].double().numpy())


def _body_model_paths(body_model: Union[None, str, Dict[str, Any]],
                      out_dir: str) -> Tuple[str, str]:
    """(model_dir, J_regressor_extra path) of the body-model argument of
    :func:`generate_world` (writing the default synthetic model when it is None)."""
    if body_model is None:
        folder = osp.join(out_dir, 'body_model')
        info = dict(model_dir=folder, j_regressor_extra=osp.join(folder, 'J_regressor_extra.npy'))
        if not osp.isfile(osp.join(folder, 'mesh_sampler.npz')):  # written last
            info = write_synthetic_body_model(folder)
        return info['model_dir'], info['j_regressor_extra']
    if isinstance(body_model, dict):
        return str(body_model['model_dir']), str(body_model['j_regressor_extra'])
    model_dir = os.fspath(body_model)
    if not osp.isdir(model_dir):
        raise FileNotFoundError(f'body model folder {model_dir} does not exist (expected the '
                                'dict of write_synthetic_body_model or a folder with '
                                'SMPL_{MALE,FEMALE}.{npz,pkl} and J_regressor_extra.npy)')
    return model_dir, osp.join(model_dir, 'J_regressor_extra.npy')


def _body_model_fingerprint(model_dir: str, j_regressor_extra: str) -> str:
    """SHA-256 of the arrays that shape the people (file-format independent)."""
    digest = hashlib.sha256()
    for name in _GENDER_NAMES.values():
        data = load_smpl_model_file(resolve_smpl_path(model_dir, name))
        for key in _SMPL_HASH_KEYS:
            value = data[key]
            value = value.toarray() if hasattr(value, 'toarray') else np.asarray(value)
            digest.update(key.encode())
            digest.update(np.ascontiguousarray(value, dtype=np.float64).tobytes())
    digest.update(load_joint_regressor(j_regressor_extra).numpy().tobytes())
    return digest.hexdigest()


def _write_image(path: str, image: np.ndarray, params: Tuple[int, ...] = ()) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, image, list(params)):
        raise OSError(f'could not write image {path}')


def _visibility_stats(codes: np.ndarray) -> Dict[str, float]:
    """Fractions of joints per visibility code, over J24 and over COCO-17."""
    stats = {}
    for prefix, subset in (('j24', codes), ('coco17', codes[:, J24_TO_COCO17])):
        for name, code in (('visible', VISIBLE), ('outside_image', OUTSIDE_IMAGE),
                           ('self_occluded', SELF_OCCLUDED), ('occluder', OCCLUDER)):
            stats[f'{prefix}_{name}'] = round(float((subset == code).mean()), 4)
    return stats


def _generate_split(name: str, num_images: int, folder: str, people: SyntheticPeople,
                    camera: PinholeCamera, seed: int, frames_per_sequence: int,
                    pose_spread: float, yaw_std_deg: Optional[float], model_dir: str,
                    j_regressor_extra: str, progress: bool) -> Dict[str, Any]:
    """Render one split into ``folder`` and write its annotations; returns its statistics."""
    spec = SPLITS[name]

    def sequence_file(sequence: str) -> str:
        return osp.join(folder, 'sequenceFiles', PW3D_SPLIT, f'{sequence}.pkl')

    records = []
    codes = []
    writer: Optional[PW3DSequenceWriter] = None
    for index in tqdm(range(num_images), desc=f'world {name}', disable=not progress):
        subject, frame = divmod(index, frames_per_sequence)
        seq_name = f'{name}_{subject:04d}'
        if frame == 0:
            subject_rng = _rng(seed, spec.code, 0, subject)
            gender, betas = sample_gender(subject_rng), sample_betas(subject_rng)
            if name == PW3D_SPLIT:
                if writer is not None:
                    writer.write(sequence_file(writer.sequence))
                writer = PW3DSequenceWriter(seq_name, gender, betas, camera.intrinsics)
        rng = _rng(seed, spec.code, 1, index)
        pose = np.concatenate([sample_global_orient(rng, yaw_std_deg),
                               sample_body_pose(rng, pose_spread)])
        vertices, smpl_joints, j24 = people.pose(gender, pose, betas)
        trans = place_person(rng, vertices, camera)
        vertex_part, face_part = people.parts[gender]
        sample = render_person(rng, vertices + trans, people.faces, j24 + trans, vertex_part,
                               face_part, camera, spec.occlusion, spec.min_visible_keypoints)

        stem = f'{seq_name}/image_{frame:05d}'
        _write_image(osp.join(folder, 'imageFiles', f'{stem}.jpg'),
                     cv2.cvtColor(sample['image'], cv2.COLOR_RGB2BGR),
                     (cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY))
        _write_image(osp.join(folder, 'masks', f'{stem}.png'), sample['mask'])
        joints_2d = sample['joints_2d']
        records.append(dict(
            imgname=f'imageFiles/{stem}.jpg', center=sample['box_center'],
            scale=BOX_SCALE_FACTOR * sample['box_side'] / 200.0, pose=pose, shape=betas,
            gender=gender, has_smpl=1.0, part=joints_2d,
            S=np.concatenate([j24 + trans, np.ones((24, 1))], axis=1),
            coco_keypoints=joints_2d[J24_TO_COCO17], trans=trans,
            cam_intrinsics=camera.intrinsics, seq_name=seq_name, frame_id=frame))
        codes.append(sample['visibility_code'])
        if writer is not None:
            writer.add_frame(_rng(seed, spec.code, 2, index), pose, trans, smpl_joints + trans,
                             joints_2d)

    arrays = {key: np.stack([np.asarray(r[key]) for r in records]) for key in records[0]}
    np.savez(osp.join(folder, f'quickstart_{name}.npz'), **arrays)
    info: Dict[str, Any] = dict(num_images=num_images,
                                num_sequences=-(-num_images // frames_per_sequence),
                                visibility=_visibility_stats(np.stack(codes)))
    if writer is not None:
        writer.write(sequence_file(writer.sequence))
        with one_torch_thread():
            converted = convert_pw3d(folder, folder, splits=(PW3D_SPLIT, ),
                                     body_model_dir=model_dir,
                                     j_regressor_extra=j_regressor_extra, progress=False)
        if converted[PW3D_SPLIT] != num_images:
            raise RuntimeError(f'the 3DPW converter kept {converted[PW3D_SPLIT]} of '
                               f'{num_images} {name} records: {converted}')
    return info


def _split_paths(out_dir: str, name: str, info: Dict[str, Any]) -> Dict[str, Any]:
    root = osp.join(out_dir, name)
    paths = dict(data_root=root, ann_file=osp.join(root, f'quickstart_{name}.npz'),
                 images=osp.join(root, 'imageFiles'), masks=osp.join(root, 'masks'), **info)
    if name == PW3D_SPLIT:
        paths.update(pw3d_root=root, pw3d_ann_file=osp.join(root, f'pw3d_{PW3D_SPLIT}.npz'))
    return paths


def _read_json(path: str) -> Optional[Dict[str, Any]]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _write_json(path: str, data: Dict[str, Any]) -> None:
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


def generate_world(out_dir: str, num_train: int, num_test: int, num_test_occluded: int,
                   image_size: int = 256, seed: int = 0,
                   body_model: Union[None, str, Dict[str, Any]] = None,
                   force: bool = False, focal_length: Optional[float] = None,
                   frames_per_sequence: int = 10, pose_spread: float = 0.7,
                   yaw_std_deg: Optional[float] = None,
                   progress: bool = True) -> Dict[str, Any]:
    """Generate (or reuse) the synthetic world (module docstring).

    Args:
        out_dir: output folder.
        num_train, num_test, num_test_occluded: images per split (each >= 1).
        image_size: square image side in px (>= 64).
        seed: random seed; the same arguments give the same world.
        body_model: the dict returned by ``write_synthetic_body_model``, a folder with
            ``SMPL_{MALE,FEMALE}.{npz,pkl}`` and ``J_regressor_extra.npy``, or None to write
            (once) the default small synthetic body model into ``out_dir/body_model``.
        force: replace splits that exist with other arguments (otherwise an error).
        focal_length: in px; default ``2 * image_size`` (people end up 3-7 m away).
        frames_per_sequence: frames per subject / sequence.
        pose_spread: scale of the joint-angle spreads around the most likely pose (1: the full
            ranges of :data:`~.pose_sampling.JOINT_LIMITS_DEG`; 0.7: everyday poses).
        yaw_std_deg: std of the body's turn away from the camera in degrees, or None for
            every direction equally (see :func:`~.pose_sampling.sample_global_orient`).
        progress: show progress bars.

    Returns:
        dict: ``out_dir``, ``manifest`` (path), ``body_model_dir``, ``j_regressor_extra``,
        ``image_size``, ``focal_length``, ``counts`` (split -> images), ``splits`` (split ->
        ``data_root``, ``ann_file``, ``images``, ``masks``, ``num_images``,
        ``num_sequences``, ``visibility`` statistics; the test split also ``pw3d_root`` and
        ``pw3d_ann_file``), ``generated`` (splits rendered by this call) and ``seconds``.

    Raises:
        FileExistsError: a split folder exists with other arguments and ``force`` is False.
    """
    start = time.time()
    counts = dict(train=num_train, test=num_test, test_occluded=num_test_occluded)
    for key, value in counts.items():
        if int(value) < 1:
            raise ValueError(f'num_{key} must be >= 1, got {value}')
    if image_size < 64:
        raise ValueError(f'image_size must be >= 64 px, got {image_size}')
    if frames_per_sequence < 1:
        raise ValueError(f'frames_per_sequence must be >= 1, got {frames_per_sequence}')
    if not pose_spread > 0:
        raise ValueError(f'pose_spread must be > 0, got {pose_spread}')
    out_dir = osp.abspath(os.fspath(out_dir))
    os.makedirs(out_dir, exist_ok=True)
    focal_length = float(2 * image_size if focal_length is None else focal_length)
    model_dir, j_regressor_extra = _body_model_paths(body_model, out_dir)
    common = dict(format=FORMAT_VERSION, image_size=int(image_size), focal_length=focal_length,
                  seed=int(seed), frames_per_sequence=int(frames_per_sequence),
                  pose_spread=float(pose_spread),
                  yaw_std_deg=None if yaw_std_deg is None else float(yaw_std_deg),
                  body_model=_body_model_fingerprint(model_dir, j_regressor_extra))
    split_args = {name: dict(common, split=name, num_images=int(counts[name]))
                  for name in SPLITS}

    manifest_path = osp.join(out_dir, MANIFEST_NAME)
    manifest = _read_json(manifest_path)
    if manifest is not None and manifest.get('args') == dict(common, counts=counts) and all(
            (_read_json(osp.join(out_dir, n, SPLIT_INFO_NAME)) or {}).get('args') == a
            for n, a in split_args.items()):
        return dict(manifest['result'], generated=[], seconds=time.time() - start)

    camera = PinholeCamera(int(image_size), focal_length)
    people = None
    generated = []
    splits = {}
    for name, args in split_args.items():
        final = osp.join(out_dir, name)
        existing = _read_json(osp.join(final, SPLIT_INFO_NAME))
        if existing is not None and existing.get('args') == args:
            splits[name] = _split_paths(out_dir, name, existing['info'])
            continue
        if osp.exists(final) and not force:
            raise FileExistsError(
                f'{final} exists and was generated with other arguments (or is incomplete); '
                'pass force=True (--force) to replace it')
        if people is None:
            people = SyntheticPeople(model_dir, j_regressor_extra)
        for stale in glob.glob(osp.join(out_dir, f'.{name}.tmp-*')):  # from killed runs
            shutil.rmtree(stale, ignore_errors=True)
        tmp = osp.join(out_dir, f'.{name}.tmp-{os.getpid()}')
        os.makedirs(tmp)
        try:
            info = _generate_split(name, int(counts[name]), tmp, people, camera, int(seed),
                                   int(frames_per_sequence), float(pose_spread), yaw_std_deg,
                                   model_dir, j_regressor_extra, progress)
            _write_json(osp.join(tmp, SPLIT_INFO_NAME), dict(args=args, info=info))
            if osp.exists(final):
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        generated.append(name)
        splits[name] = _split_paths(out_dir, name, info)

    result = dict(out_dir=out_dir, manifest=manifest_path, body_model_dir=osp.abspath(model_dir),
                  j_regressor_extra=osp.abspath(j_regressor_extra), image_size=int(image_size),
                  focal_length=focal_length, counts=counts, splits=splits)
    _write_json(manifest_path, dict(args=dict(common, counts=counts), result=result))
    return dict(result, generated=generated, seconds=time.time() - start)
