"""BodyModelMeshDataset on AMASS / BEDLAM / SMPL motion files and SPIN-style annotation files,
and the meshes BuildBodyModelMesh makes of its samples."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from mmpose.registry import DATASETS, MODELS
from postometro_mm.datasets import InvalidAnnotationError
from postometro_mm.quickstart.pose_sampling import sample_body_pose


def _poses(rng, frames: int, width: int) -> np.ndarray:
    """(frames, width) axis-angle poses whose first 72 values are a plausible SMPL pose."""
    poses = rng.normal(0, 0.3, (frames, width))
    for row in poses:
        row[3:72] = sample_body_pose(rng)
    return poses


@pytest.fixture(scope='module')
def motion_root(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp('sequences')
    (root / 'amass' / 'subject1').mkdir(parents=True)
    np.savez(root / 'amass' / 'subject1' / 'walk_poses.npz', poses=_poses(rng, 7, 156),
             betas=rng.normal(size=16), gender=np.array('male'), trans=np.zeros((7, 3)),
             mocap_framerate=np.array(120.0))
    np.savez(root / 'amass' / 'subject1' / 'shape.npz', betas=rng.normal(size=16),
             gender=np.array('male'))
    np.savez(root / 'bedlam_seq.npz', poses=_poses(rng, 5, 165), betas=rng.normal(size=11),
             gender=np.array(b'neutral'))
    np.savez(root / 'smpl_seq.npz', poses=_poses(rng, 4, 72),
             betas=rng.normal(size=(4, 10)), gender=np.array('female'))
    return root


def _build(ann_file, body_model=None, **kwargs):
    pipeline = [] if body_model is None else [
        dict(type='BuildBodyModelMesh',
             body_model=dict(type='GenderedSMPL', model_path=body_model['model_dir'])),
        dict(type='PackMeshAutoencoderInputs')]
    return DATASETS.build(dict(type='BodyModelMeshDataset', ann_file=str(ann_file),
                               pipeline=pipeline, **kwargs))


def test_motion_files_random_and_all_frames(motion_root):
    random = _build(motion_root)
    assert len(random) == 3  # one sample per sequence; shape.npz is skipped
    names = [random.get_data_info(i)['seq_name'] for i in range(3)]
    assert names == ['walk_poses', 'bedlam_seq', 'smpl_seq']
    np.random.seed(0)
    frames = {random.get_data_info(0)['frame_id'] for _ in range(40)}
    assert frames == set(range(7))  # a uniformly random frame each time

    every = _build(motion_root, frames='all', frame_stride=2)
    assert len(every) == 4 + 3 + 2
    info = every.get_data_info(1)
    assert (info['seq_name'], info['frame_id'], info['gender']) == ('walk_poses', 2, 1)
    with np.load(motion_root / 'amass' / 'subject1' / 'walk_poses.npz') as npz:
        expected = np.concatenate([npz['poses'][2, :66], np.zeros(6)])  # SMPL-H -> SMPL
        np.testing.assert_allclose(info['smpl_pose'], expected, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(info['smpl_betas'], npz['betas'][:10], rtol=1e-6)
    bedlam = every.get_data_info(4)
    assert bedlam['seq_name'] == 'bedlam_seq' and bedlam['gender'] == 0
    assert bedlam['smpl_pose'].shape == (72, ) and not bedlam['smpl_pose'][66:].any()
    with np.load(motion_root / 'smpl_seq.npz') as npz:  # per-frame betas, SMPL poses kept
        last = every.get_data_info(8)
        assert (last['frame_id'], last['gender']) == (2, 2)
        np.testing.assert_allclose(last['smpl_pose'], npz['poses'][2], rtol=1e-6)
        np.testing.assert_allclose(last['smpl_betas'], npz['betas'][2], rtol=1e-6)
    listing = motion_root / 'list.txt'
    listing.write_text('smpl_seq.npz\n\nbedlam_seq.npz\n')
    assert len(_build(listing, data_root=str(motion_root), frames='all')) == 4 + 5


def test_spin_style_files_group_sequences_and_leave_out_records_without_smpl(tmp_path):
    rng = np.random.default_rng(1)
    pose = _poses(rng, 6, 72)
    path = tmp_path / 'pw3d_test.npz'
    np.savez(path, imgname=np.array([f'imageFiles/{s}/image_{f:05d}.jpg' for s, f in
                                     [('a', 0), ('a', 5), ('b', 1), ('b', 2), ('b', 3),
                                      ('a', 9)]]),
             center=np.zeros((6, 2)), scale=np.ones(6), pose=pose, shape=rng.normal(size=(6, 10)),
             has_smpl=np.array([1, 1, 1, 0, 1, 1]), gender=np.array(list('mmffff')))
    random = _build(path)
    assert len(random) == 2
    every = _build(path, frames='all')
    infos = [every.get_data_info(i) for i in range(len(every))]
    assert [(i['seq_name'], i['frame_id'], i['gender']) for i in infos] == [
        ('a', 0, 1), ('a', 5, 1), ('a', 9, 2), ('b', 1, 2), ('b', 3, 2)]
    np.testing.assert_allclose(infos[2]['smpl_pose'], pose[5], rtol=1e-6)


def test_meshes_are_the_body_models_in_the_canonical_frame(motion_root, synthetic_body_model):
    dataset = _build(motion_root, synthetic_body_model, frames='all')
    sample = dataset[1]  # walk_poses frame 1 (male)
    info = dataset.get_data_info(1)
    smpl = MODELS.build(dict(type='SMPL', model_path=synthetic_body_model['model_dir'],
                             gender='male'))
    pose = torch.as_tensor(info['smpl_pose'])[None]
    with torch.no_grad():
        direct = smpl(torch.as_tensor(info['smpl_betas'])[None], pose[:, 3:],
                      torch.zeros(1, 3))['vertices'][0]
    direct = direct - direct.mean(0)
    torch.testing.assert_close(sample['inputs'], direct.float(), rtol=0, atol=1e-6)
    assert sample['data_samples'] == dict(id=1, seq_name='walk_poses', frame_id=1)
    # the global orientation does not matter: canonical frame
    assert not np.allclose(info['smpl_pose'][:3], 0)
    batch = default_collate([dataset[i] for i in range(3)])
    assert batch['inputs'].shape == (3, synthetic_body_model['num_vertices'][0], 3)
    assert batch['data_samples']['seq_name'] == ['walk_poses'] * 3


@pytest.mark.parametrize('arrays,message', [
    (dict(poses=np.zeros((3, 70)), betas=np.zeros(10)), r'"poses" has shape \(3, 70\)'),
    (dict(poses=np.zeros((3, 72)), betas=np.zeros(8)), r'"betas" has shape \(8,\)'),
    (dict(poses=np.zeros((3, 72))), 'required key "betas" is missing'),
    (dict(poses=np.zeros((3, 72)), betas=np.zeros(10), gender=np.array('x')),
     "gender 'x'"),
    (dict(trans=np.zeros((3, 3))), 'neither a motion file'),
    (dict(pose=np.zeros((2, 72)), shape=np.zeros((2, 10)), has_smpl=np.zeros(2)),
     'no record has SMPL'),
])
def test_bad_files_are_named(tmp_path, arrays, message):
    path = tmp_path / 'bad.npz'
    np.savez(path, **arrays)
    with pytest.raises((InvalidAnnotationError, KeyError)) as err:
        _build(path)
    assert 'bad.npz' in str(err.value)
    assert err.match(message)


def test_bad_sources_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.npz'):
        _build(tmp_path / 'missing.npz')
    (tmp_path / 'list.txt').write_text('nowhere.npz\n')
    with pytest.raises(FileNotFoundError, match='nowhere.npz'):
        _build(tmp_path / 'list.txt', data_root=str(tmp_path))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(InvalidAnnotationError, match='holds no .npz'):
        _build(tmp_path / 'empty')
    with pytest.raises(ValueError, match='frames must be one of'):
        _build(tmp_path / 'empty', frames='first')
