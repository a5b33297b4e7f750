"""Builders for the data-layer tests: synthetic people from the synthetic SMPL-format body
model, written IN THE EXACT ON-DISK FORMATS the datasets and converters read (3DPW sequence
pickles, SPIN npz, METRO TSV sets, 3DOH50K annots.json). ``conftest.py`` wraps them in
fixtures.

Everything here is built independently of the code under test: keypoint layouts are mapped
by joint *name*, projections and camera-frame rotations are computed directly.
"""
import base64
import json
import os
import os.path as osp
import pickle
from typing import Any, Dict, List, Optional

import cv2
import numpy as np
import torch
from scipy.spatial.transform import Rotation

from postometro_mm.body_models import (COCO17_NAMES, J24_NAMES, SMPL, load_joint_regressor,
                                       mesh_to_j24)

#: OpenPose-18 (3DPW ``poses2d``) joint names, in file order.
OPENPOSE18_NAMES = ('nose', 'neck', 'right_shoulder', 'right_elbow', 'right_wrist',
                    'left_shoulder', 'left_elbow', 'left_wrist', 'right_hip', 'right_knee',
                    'right_ankle', 'left_hip', 'left_knee', 'left_ankle', 'right_eye',
                    'left_eye', 'right_ear', 'left_ear')
#: COCO-17 name -> J24 name (same anatomical point in both sets).
COCO_TO_J24_NAME = {
    'nose': 'Nose', 'left_eye': 'L_Eye', 'right_eye': 'R_Eye', 'left_ear': 'L_Ear',
    'right_ear': 'R_Ear', 'left_shoulder': 'L_Shoulder', 'right_shoulder': 'R_Shoulder',
    'left_elbow': 'L_Elbow', 'right_elbow': 'R_Elbow', 'left_wrist': 'L_Wrist',
    'right_wrist': 'R_Wrist', 'left_hip': 'L_Hip', 'right_hip': 'R_Hip',
    'left_knee': 'L_Knee', 'right_knee': 'R_Knee', 'left_ankle': 'L_Ankle',
    'right_ankle': 'R_Ankle'}
LSP14_NAMES = ('R_Ankle', 'R_Knee', 'R_Hip', 'L_Hip', 'L_Knee', 'L_Ankle', 'R_Wrist',
               'R_Elbow', 'R_Shoulder', 'L_Shoulder', 'L_Elbow', 'L_Wrist', 'Neck',
               'Top_of_Head')


def coco17_from_j24_by_name(j24: np.ndarray) -> np.ndarray:
    """(…, 24, C) → (…, 17, C) through joint names."""
    return j24[..., [J24_NAMES.index(COCO_TO_J24_NAME[n]) for n in COCO17_NAMES], :]


def project(points: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pinhole projection (…, 3) → (…, 2)."""
    x = points[..., 0] / points[..., 2] * K[0, 0] + K[0, 2]
    y = points[..., 1] / points[..., 2] * K[1, 1] + K[1, 2]
    return np.stack([x, y], axis=-1)


def rotvec_matrix(rotvec: np.ndarray) -> np.ndarray:
    return Rotation.from_rotvec(np.asarray(rotvec, dtype=np.float64)).as_matrix()


def dotted_image(height: int, width: int, points: np.ndarray, seed: int = 0) -> np.ndarray:
    """Dark noisy BGR image with a white 3×3 dot at every (x, y) of ``points`` in the image."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 40, size=(height, width, 3), dtype=np.uint8)
    for x, y in np.round(points).astype(int):
        if 1 <= x < width - 1 and 1 <= y < height - 1:
            img[y - 1:y + 2, x - 1:x + 2] = 255
    return img


class SyntheticPeople:
    """Posed synthetic SMPL people and their METRO J24 joints."""

    def __init__(self, body_model: Dict[str, Any]) -> None:
        self.model_dir = body_model['model_dir']
        self.j_regressor_extra = body_model['j_regressor_extra']
        self.extra = load_joint_regressor(self.j_regressor_extra)
        self.models = {g: SMPL(self.model_dir, gender=g) for g in ('neutral', 'male', 'female')}

    @staticmethod
    def random_poses(rng: np.random.Generator, num: int, upright_in_camera: bool
                     ) -> np.ndarray:
        """(num, 72): mild body poses; root facing the camera (camera frame: y down)."""
        pose = rng.normal(0.0, 0.15, size=(num, 72))
        base = Rotation.from_euler('x', 180, degrees=True) if upright_in_camera else \
            Rotation.identity()
        yaw = Rotation.from_euler('y', rng.uniform(-40, 40, size=(num, 1)), degrees=True)
        pose[:, :3] = (base * yaw).as_rotvec()
        return pose

    @torch.no_grad()
    def j24(self, pose: np.ndarray, betas: np.ndarray, gender: str = 'neutral',
            transl: Optional[np.ndarray] = None) -> np.ndarray:
        model = self.models[gender]
        pose_t = torch.as_tensor(pose, dtype=torch.float32)
        out = model(betas=torch.as_tensor(betas, dtype=torch.float32),
                    body_pose=pose_t[:, 3:], global_orient=pose_t[:, :3],
                    transl=None if transl is None else torch.as_tensor(transl,
                                                                        dtype=torch.float32))
        return mesh_to_j24(out['vertices'], model.joint_regressor, self.extra).double().numpy()


def camera_samples(people: SyntheticPeople, num: int, seed: int, K: np.ndarray,
                   image_size=(320, 240)) -> Dict[str, np.ndarray]:
    """People standing ~5 m in front of a pinhole camera K: pose/betas/J24 (camera frame)."""
    rng = np.random.default_rng(seed)
    pose = people.random_poses(rng, num, upright_in_camera=True)
    betas = rng.normal(0.0, 0.5, size=(num, 10))
    genders = np.array(['m', 'f', 'n'])[np.arange(num) % 3]
    transl = np.stack([rng.uniform(-0.3, 0.3, num), rng.uniform(-0.2, 0.2, num),
                       rng.uniform(4.5, 5.5, num)], axis=1)
    names = {'m': 'male', 'f': 'female', 'n': 'neutral'}
    joints = np.concatenate([
        people.j24(pose[i:i + 1], betas[i:i + 1], names[g], transl[i:i + 1])
        for i, g in enumerate(genders)])
    return dict(pose=pose, betas=betas, gender=genders, transl=transl, joints_3d=joints,
                joints_2d=project(joints, K), K=K, image_size=image_size)


def box_of(points: np.ndarray, factor: float = 1.2):
    lo, hi = points.min(axis=0), points.max(axis=0)
    return (lo + hi) / 2, factor * float((hi - lo).max())


# ------------------------------------------------------------------------------ SPIN npz
def build_spin_npz_set(root: str, people: SyntheticPeople) -> Dict[str, Any]:
    """A SPIN-layout npz (keys imgname/center/scale/pose/shape/part/S/gender/has_smpl) with
    images; the last record has no SMPL and two invisible J24 joints."""
    K = np.array([[300.0, 0, 160], [0, 300.0, 120], [0, 0, 1]])
    data = camera_samples(people, 5, seed=1, K=K)
    num = len(data['pose'])
    part = np.concatenate([data['joints_2d'], np.ones((num, 24, 1))], axis=2)
    part[-1, [3, 7], 2] = 0
    S = np.concatenate([data['joints_3d'], np.ones((num, 24, 1))], axis=2)
    centers, scales, names = [], [], []
    os.makedirs(osp.join(root, 'images', 'seq_a'))
    for i in range(num):
        center, side = box_of(data['joints_2d'][i])
        centers.append(center)
        scales.append(side / 200)
        names.append(f'images/seq_a/frame_{i:04d}.jpg')
        cv2.imwrite(osp.join(root, names[-1]), dotted_image(240, 320, data['joints_2d'][i], i))
    has_smpl = np.ones(num)
    has_smpl[-1] = 0
    arrays = dict(imgname=np.array(names), center=np.array(centers), scale=np.array(scales),
                  pose=data['pose'], shape=data['betas'], part=part, S=S,
                  gender=data['gender'], has_smpl=has_smpl)
    path = osp.join(root, 'spin_style.npz')
    np.savez(path, **arrays)
    return dict(root=root, path=path, arrays=arrays, K=K, data=data)


# ------------------------------------------------------------------------------ 3DPW
#: (split, sequence, frames, people): OCC = courtyard_box, downtown_stairs; PC =
#: courtyard_dancing_01 [60, 270) and courtyard_hug_00 [100, 500); jumpBench is neither.
PW3D_LAYOUT = (('train', 'courtyard_box_00', 6, 1),
               ('train', 'courtyard_dancing_01', 272, 2),
               ('validation', 'courtyard_jumpBench_01', 5, 1),
               ('test', 'downtown_stairs_00', 7, 1),
               ('test', 'courtyard_hug_00', 503, 1))


def _pw3d_sequence(people: SyntheticPeople, seq: str, num_frames: int, num_people: int,
                   seed: int) -> Dict[str, Any]:
    """An official-layout 3DPW sequence dict (world frame y up) + expected camera values."""
    rng = np.random.default_rng(seed)
    K = np.array([[1000.0, 0, 540], [0, 1000.0, 960], [0, 0, 1]])
    cam_poses = np.zeros((num_frames, 4, 4))
    cam_rot = (Rotation.from_euler('x', 180, degrees=True) *
               Rotation.from_euler('xyz', rng.normal(0, 5, size=(num_frames, 3)), degrees=True))
    cam_poses[:, :3, :3] = cam_rot.as_matrix()
    cam_poses[:, :3, 3] = rng.normal(0, 0.1, size=(num_frames, 3)) + [0, 0, 5]
    cam_poses[:, 3, 3] = 1
    genders = ['m', 'f'][:num_people]
    names = {'m': 'male', 'f': 'female'}
    data = dict(sequence=seq, genders=genders, poses=[], betas=[], trans=[], poses2d=[],
                campose_valid=[], jointPositions=[], cam_poses=cam_poses, cam_intrinsics=K,
                img_frame_ids=np.arange(num_frames) * 2)
    expected = dict(joints_cam=[], coco=[])
    for p in range(num_people):
        pose = people.random_poses(rng, num_frames, upright_in_camera=False)
        betas = rng.normal(0, 0.5, size=10)
        trans = rng.normal(0, 0.2, size=(num_frames, 3)) + [0.6 * p, 0, 0]
        joints_world = people.j24(pose, np.tile(betas, (num_frames, 1)), names[genders[p]],
                                  trans)
        joints_cam = (np.einsum('fij,fkj->fki', cam_poses[:, :3, :3], joints_world) +
                      cam_poses[:, None, :3, 3])
        coco = np.concatenate([coco17_from_j24_by_name(project(joints_cam, K)),
                               rng.uniform(0.2, 1.0, size=(num_frames, 17, 1))], axis=2)
        coco[:, 0, 2] = 0.0                       # nose never detected
        coco[1, :, :] = 0.0                       # frame 1: no detection at all
        op18 = np.zeros((num_frames, 18, 3))
        for c, name in enumerate(COCO17_NAMES):
            op18[:, OPENPOSE18_NAMES.index(name)] = coco[:, c]
        op18[:, 1] = (op18[:, 2] + op18[:, 5]) / 2   # neck
        valid = np.ones(num_frames, dtype=bool if p == 0 else np.uint8)
        valid[2] = 0                              # frame 2: camera pose not aligned
        data['poses'].append(pose)
        data['betas'].append(betas)
        data['trans'].append(trans)
        data['poses2d'].append(op18.transpose(0, 2, 1).copy())
        data['campose_valid'].append(valid)
        data['jointPositions'].append(rng.normal(size=(num_frames, 72)))
        expected['joints_cam'].append(joints_cam)
        expected['coco'].append(coco)
    return dict(data=data, expected=expected)


def build_pw3d_root(root: str, people: SyntheticPeople) -> Dict[str, Any]:
    """3DPW root with official sequence pickles (protocol 2, latin1-readable) per split."""
    sequences = {}
    for seed, (split, seq, frames, num_people) in enumerate(PW3D_LAYOUT):
        built = _pw3d_sequence(people, seq, frames, num_people, seed)
        folder = osp.join(root, 'sequenceFiles', split)
        os.makedirs(folder, exist_ok=True)
        with open(osp.join(folder, f'{seq}.pkl'), 'wb') as f:
            pickle.dump(built['data'], f, protocol=2)
        sequences[seq] = dict(split=split, **built)
    return dict(root=root, sequences=sequences)


# ------------------------------------------------------------------------------ METRO TSV
def write_tsv(path: str, rows: List[List[str]]) -> None:
    """METRO layout: tab-separated rows + .lineidx of byte offsets."""
    offsets, position = [], 0
    with open(path, 'wb') as f:
        for row in rows:
            line = ('\t'.join(row) + '\n').encode('utf-8')
            offsets.append(position)
            f.write(line)
            position += len(line)
    with open(osp.splitext(path)[0] + '.lineidx', 'w') as f:
        f.write(''.join(f'{o}\n' for o in offsets))


def _tsv_split(folder: str, name: str, data: Dict[str, Any], seq: str,
               drop_gender: bool = False) -> Dict[str, Any]:
    num = len(data['pose'])
    img_rows, label_rows, hw_rows, labels = [], [], [], []
    for i in range(num):
        key = f'{seq}/image_{i:05d}.jpg'
        img = dotted_image(240, 320, data['joints_2d'][i], seed=i)
        ok, jpg = cv2.imencode('.jpg', img)
        img_rows.append([key, base64.b64encode(jpg.tobytes()).decode('ascii')])
        center, side = box_of(data['joints_2d'][i])
        label = dict(center=center.tolist(), scale=side / 200,
                     **{'2d_joints': np.concatenate([data['joints_2d'][i], np.ones((24, 1))],
                                                    1).tolist(),
                        '3d_joints': np.concatenate([data['joints_3d'][i], np.ones((24, 1))],
                                                    1).tolist()},
                     has_2d_joints=1, has_3d_joints=1, pose=data['pose'][i].tolist(),
                     betas=data['betas'][i].tolist(), has_smpl=1)
        if not drop_gender:
            label['gender'] = str(data['gender'][i])
        labels.append(label)
        label_rows.append([key, json.dumps([label])])
        hw_rows.append([key, json.dumps([{'height': 240, 'width': 320}])])
    write_tsv(osp.join(folder, f'{name}.img.tsv'), img_rows)
    write_tsv(osp.join(folder, f'{name}.label.tsv'), label_rows)
    write_tsv(osp.join(folder, f'{name}.hw.tsv'), hw_rows)
    return dict(labels=labels, keys=[r[0] for r in label_rows])


def build_metro_tsv_set(root: str, people: SyntheticPeople) -> Dict[str, Any]:
    """Two METRO TSV sets (img/label/hw + .lineidx, a linelist, a yaml each) and a composite
    yaml over both, with paths relative to the yaml folders as METRO writes them."""
    K = np.array([[300.0, 0, 160], [0, 300.0, 120], [0, 0, 1]])
    sets = {}
    for index, (name, seq) in enumerate((('set_a', 'courtyard_box_00'),
                                         ('set_b', 'downtown_bus_00'))):
        folder = osp.join(root, name)
        os.makedirs(folder)
        data = camera_samples(people, 4, seed=10 + index, K=K)
        built = _tsv_split(folder, 'train', data, seq, drop_gender=index == 1)
        with open(osp.join(folder, 'train.linelist.tsv'), 'w') as f:
            f.write('0\n2\n3\n')          # row 1 left out
        with open(osp.join(folder, 'train.yaml'), 'w') as f:
            f.write('img: train.img.tsv\nhw: train.hw.tsv\nlabel: train.label.tsv\n'
                    'linelist: train.linelist.tsv\n')
        sets[name] = dict(yaml=osp.join(folder, 'train.yaml'), data=data, **built)
    composite = osp.join(root, 'composite')
    os.makedirs(composite)
    with open(osp.join(composite, 'train.yaml'), 'w') as f:
        f.write('composite: true\n'
                'img: [../set_a/train.img.tsv, ../set_b/train.img.tsv]\n'
                'label: [../set_a/train.label.tsv, ../set_b/train.label.tsv]\n'
                'hw: [../set_a/train.hw.tsv, ../set_b/train.hw.tsv]\n'
                'linelist: train.linelist.tsv\n')
    with open(osp.join(composite, 'train.linelist.tsv'), 'w') as f:
        f.write('1\t3\n0\t0\n1\t1\n')
    return dict(root=root, sets=sets, composite_yaml=osp.join(composite, 'train.yaml'),
                composite_rows=[('set_b', 3), ('set_a', 0), ('set_b', 1)], K=K)


# ------------------------------------------------------------------------------ 3DOH50K
def build_oh3d_root(root: str, people: SyntheticPeople) -> Dict[str, Any]:
    """3DOH50K testset/annots.json in the released layout (ids '00000', …; world-frame pose,
    extri world→camera, backslash image paths) with images."""
    rng = np.random.default_rng(7)
    K = np.array([[800.0, 0, 512], [0, 800.0, 512], [0, 0, 1]])
    num = 4
    pose = people.random_poses(rng, num, upright_in_camera=False)
    betas = rng.normal(0, 0.5, size=(num, 10))
    annots, expected = {}, dict(pose_cam=[], lsp=[], bbox=[])
    os.makedirs(osp.join(root, 'testset', 'images'))
    for i in range(num):
        extri = np.eye(4)
        extri[:3, :3] = (Rotation.from_euler('x', 180, degrees=True) *
                         Rotation.from_euler('y', rng.uniform(-30, 30), degrees=True)).as_matrix()
        extri[:3, 3] = [0, 0, 4]
        joints_world = people.j24(pose[i:i + 1], betas[i:i + 1])[0]
        joints_cam = joints_world @ extri[:3, :3].T + extri[:3, 3]
        j2d = project(joints_cam, K)
        lsp = j2d[[J24_NAMES.index(n) for n in LSP14_NAMES]]
        lo, hi = j2d.min(0) - 10, j2d.max(0) + 10
        annots[f'{i:05d}'] = dict(
            img_path=f'images\\{i:05d}.jpg', bbox=[lo.tolist(), hi.tolist()],
            pose=[pose[i].tolist()], betas=[betas[i].tolist()], trans=[[0.0, 0.0, 0.0]],
            scale=[1.0], intri=K.tolist(), extri=extri.tolist(), lsp_joints_2d=lsp.tolist(),
            lsp_joints_3d=(joints_cam[:14]).tolist(), smpl_joints_2d=np.zeros((24, 2)).tolist(),
            smpl_joints_3d=np.zeros((24, 3)).tolist())
        cv2.imwrite(osp.join(root, 'testset', 'images', f'{i:05d}.jpg'),
                    dotted_image(1024, 1024, j2d, seed=i))
        expected['pose_cam'].append(Rotation.from_matrix(
            extri[:3, :3] @ rotvec_matrix(pose[i, :3])).as_matrix())
        expected['lsp'].append(lsp)
        expected['bbox'].append((lo, hi))
    with open(osp.join(root, 'testset', 'annots.json'), 'w') as f:
        json.dump(annots, f)
    return dict(root=root, annots=annots, expected=expected, pose=pose, betas=betas, K=K)
