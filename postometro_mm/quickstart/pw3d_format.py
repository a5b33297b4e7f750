"""Write synthetic people as an official-format 3DPW sequence file.

3DPW keeps SMPL in a world frame with a moving camera: per frame ``cam_poses`` (world ->
camera, 4x4). The synthetic world is generated in the camera frame, so each frame gets a random
rigid camera pose and the SMPL parameters are mapped into the world frame so that 3DPW's
converter, which poses SMPL in the world and applies ``cam_poses``, recovers the camera-frame
people exactly. SMPL rotates the body about its root joint ``J0`` (shape-dependent, pose-free)
before translating, so with ``x_cam = R x_world + t``::

    global_orient_world = R^T global_orient_cam
    trans_world = R^T (J0 + trans_cam - t) - J0
"""
import os
import os.path as osp
import pickle
from typing import List

import numpy as np

from postometro_mm.body_models.joint_sets import J24_NAMES, J24_TO_COCO17
from postometro_mm.datasets.keypoint_formats import OPENPOSE18_TO_COCO17
from .pose_sampling import axis_angle_to_matrix, euler_xyz_to_matrix, matrix_to_axis_angle

_NECK = J24_NAMES.index('Neck')


def openpose18_from_j24(joints_2d: np.ndarray) -> np.ndarray:
    """OpenPose-18 ("COCO-18") keypoints (18, 3) from J24 (24, 3) px + confidence: the
    COCO-17 joints in OpenPose order plus the J24 neck."""
    out = np.zeros((18, 3))
    out[OPENPOSE18_TO_COCO17] = joints_2d[J24_TO_COCO17]
    out[1] = joints_2d[_NECK]
    return out


def random_camera_pose(rng: np.random.Generator) -> np.ndarray:
    """(4, 4) world -> camera transform: any heading, +-10 degrees of tilt, up to 3 m offset."""
    pitch, roll = np.clip(rng.normal(0.0, 5.0, size=2), -10.0, 10.0)
    angles = np.deg2rad([pitch, rng.uniform(-180.0, 180.0), roll])
    pose = np.eye(4)
    pose[:3, :3] = euler_xyz_to_matrix(angles)
    pose[:3, 3] = rng.uniform(-3.0, 3.0, size=3)
    return pose


class PW3DSequenceWriter:
    """Collect the frames of one person's sequence, then write the 3DPW pickle.

    Args:
        sequence: sequence name (also the image folder name).
        gender: 'm' or 'f'.
        betas: (10,) shape of the person.
        intrinsics: (3, 3) camera matrix.
    """

    def __init__(self, sequence: str, gender: str, betas: np.ndarray,
                 intrinsics: np.ndarray) -> None:
        self.sequence = sequence
        self.gender = gender
        self.betas = np.asarray(betas, dtype=np.float64)
        self.intrinsics = np.asarray(intrinsics, dtype=np.float64)
        self._frames: List[dict] = []

    def add_frame(self, rng: np.random.Generator, pose_cam: np.ndarray, trans_cam: np.ndarray,
                  smpl_joints_cam: np.ndarray, joints_2d: np.ndarray) -> None:
        """Add the next frame (its index is the image's frame number).

        Args:
            rng: draws the frame's camera pose.
            pose_cam: (72,) SMPL pose, global orientation in the camera frame.
            trans_cam: (3,) SMPL translation in the camera frame (m).
            smpl_joints_cam: (24, 3) SMPL joints in the camera frame (joint 0 = ``J0 +
                trans_cam``).
            joints_2d: (24, 3) J24 px + visibility (becomes ``poses2d``).
        """
        cam_pose = random_camera_pose(rng)
        rot, offset = cam_pose[:3, :3], cam_pose[:3, 3]
        root_rest = smpl_joints_cam[0] - trans_cam
        pose_world = np.array(pose_cam, dtype=np.float64)
        pose_world[:3] = matrix_to_axis_angle(rot.T @ axis_angle_to_matrix(pose_cam[:3]))
        self._frames.append(dict(
            cam_pose=cam_pose, pose=pose_world,
            trans=rot.T @ (root_rest + trans_cam - offset) - root_rest,
            joints=(smpl_joints_cam - offset) @ rot,
            poses2d=openpose18_from_j24(joints_2d).T))

    def write(self, path: str) -> str:
        """Write the sequence pickle (protocol 2, like the official Python-2 files)."""
        if not self._frames:
            raise ValueError(f'sequence {self.sequence} has no frames')
        frames = self._frames
        data = dict(
            sequence=self.sequence,
            genders=[self.gender],
            betas=[self.betas.copy()],
            poses=[np.stack([f['pose'] for f in frames])],
            trans=[np.stack([f['trans'] for f in frames])],
            poses2d=[np.stack([f['poses2d'] for f in frames])],
            jointPositions=[np.stack([f['joints'].reshape(72) for f in frames])],
            campose_valid=[np.ones(len(frames), dtype=bool)],
            cam_poses=np.stack([f['cam_pose'] for f in frames]),
            cam_intrinsics=self.intrinsics.copy(),
            img_frame_ids=np.arange(len(frames), dtype=np.int64))
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        with open(path, 'wb') as f:
            pickle.dump(data, f, protocol=2)
        return path
