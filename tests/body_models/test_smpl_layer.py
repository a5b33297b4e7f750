import shutil

import numpy as np
import pytest
import smplx
import torch
from smplx.utils import Struct

from postometro_mm.body_models import (GENDERS, SMPL, SMPL24_NAMES, GenderedSMPL,
                                       flip_smpl_pose, gender_to_index, load_smpl_model_file)
from postometro_mm.body_models.synthetic_geometry import FLOOR_Y

ZERO = dict(betas=torch.zeros(1, 10), body_pose=torch.zeros(1, 69),
            global_orient=torch.zeros(1, 3))


def random_params(batch, seed, scale=0.4):
    gen = torch.Generator().manual_seed(seed)
    pose = torch.randn(batch, 72, generator=gen) * scale
    betas = torch.randn(batch, 10, generator=gen)
    return pose, betas


@pytest.mark.parametrize('kind', ['smpl_paths', 'smpl_npz_paths'])
def test_smplx_reads_every_generated_model_through_our_loader(synthetic_body_model, kind):
    for gender in GENDERS:
        data = load_smpl_model_file(synthetic_body_model[kind][gender])
        model = smplx.SMPL(synthetic_body_model[kind][gender], data_struct=Struct(**data),
                           vertex_ids={k: 0 for k in ('nose', 'reye', 'leye', 'rear', 'lear')},
                           use_hands=False, use_feet_keypoints=False)
        output = model(**ZERO)
        num_verts = synthetic_body_model['num_vertices'][0]
        assert output.vertices.shape == (1, num_verts, 3)
        np.testing.assert_allclose(output.vertices[0].detach().numpy(), data['v_template'],
                                   atol=1e-6)
        np.testing.assert_allclose(output.joints[0, :24].detach().numpy(),
                                   synthetic_body_model['rest_joints'][gender], atol=1e-5)


def test_rest_pose_is_a_plausible_t_pose(synthetic_body_model):
    joints = synthetic_body_model['rest_joints']['neutral']
    vertices = load_smpl_model_file(synthetic_body_model['smpl_paths']['neutral'])['v_template']
    height = vertices[:, 1].max() - vertices[:, 1].min()
    assert 1.55 < height < 1.85
    assert abs(vertices[:, 1].min() - FLOOR_Y) < 0.02
    index = {name: i for i, name in enumerate(SMPL24_NAMES)}
    assert joints[index['head'], 1] > joints[index['neck'], 1] > joints[index['pelvis'], 1]
    assert joints[index['left_wrist'], 0] > 0.5 and joints[index['right_wrist'], 0] < -0.5
    assert joints[index['left_ankle'], 1] < joints[index['left_knee'], 1] < joints[
        index['left_hip'], 1]
    genders = [synthetic_body_model['rest_joints'][g] for g in GENDERS]
    assert not np.allclose(genders[0], genders[1]) and not np.allclose(genders[0], genders[2])


def test_wrapper_matches_smplx_with_translation(synthetic_body_model):
    path = synthetic_body_model['smpl_paths']['male']
    model = SMPL(path)
    reference = smplx.SMPL(path, data_struct=Struct(**load_smpl_model_file(path)),
                           vertex_ids={k: 0 for k in ('nose', 'reye', 'leye', 'rear', 'lear')},
                           use_hands=False, use_feet_keypoints=False)
    pose, betas = random_params(3, 0)
    transl = torch.randn(3, 3)
    ours = model(betas, pose[:, 3:], pose[:, :3], transl)
    theirs = reference(betas=betas, body_pose=pose[:, 3:], global_orient=pose[:, :3],
                       transl=transl)
    torch.testing.assert_close(ours['vertices'], theirs.vertices)
    torch.testing.assert_close(ours['joints'], theirs.joints[:, :24])
    assert model.faces.dtype == np.int64 and model.faces.shape[1] == 3


def test_model_arrays_stay_out_of_checkpoints(synthetic_body_model):
    model = SMPL(synthetic_body_model['model_dir'])
    assert model.state_dict() == {}
    assert model.body.v_template.shape[0] == synthetic_body_model['num_vertices'][0]
    assert model.joint_regressor.shape == (24, synthetic_body_model['num_vertices'][0])


def test_folder_prefers_pickle_free_file(synthetic_body_model):
    model = SMPL(synthetic_body_model['model_dir'], gender='f')
    assert model.model_file == synthetic_body_model['smpl_npz_paths']['female']


def _elbow_and_feet_motion(model, elbow_index, hand_verts, foot_verts):
    rest = model(**ZERO)['vertices'][0]
    body_pose = torch.zeros(1, 69)
    body_pose[0, 3 * (elbow_index - 1) + 1] = 1.2  # bend the elbow about the vertical axis
    bent = model(ZERO['betas'], body_pose, ZERO['global_orient'])['vertices'][0]
    motion = (bent - rest).norm(dim=-1)
    return motion[hand_verts].min(), motion[foot_verts].max()


@pytest.mark.parametrize('fixture', ['synthetic_body_model', 'synthetic_body_model_real_size'])
def test_rotating_the_elbow_moves_the_hand_not_the_feet(fixture, request):
    info = request.getfixturevalue(fixture)
    model = SMPL(info['smpl_paths']['neutral'])
    vertices = model(**ZERO)['vertices'][0]
    joints = torch.as_tensor(info['rest_joints']['neutral'], dtype=torch.float32)
    index = {name: i for i, name in enumerate(SMPL24_NAMES)}
    hand = (vertices - joints[index['left_hand']]).norm(dim=-1) < 0.04
    feet = vertices[:, 1] < FLOOR_Y + 0.08
    assert hand.sum() >= 3 and feet.sum() >= 10
    hand_motion, feet_motion = _elbow_and_feet_motion(model, index['left_elbow'], hand, feet)
    assert hand_motion > 0.1  # the forearm is ~0.3 m long; 1.2 rad moves the hand far
    assert feet_motion < 1e-6


def test_flipped_pose_gives_the_mirrored_mesh(synthetic_body_model):
    model = SMPL(synthetic_body_model['smpl_paths']['neutral'])
    mirror = torch.as_tensor(synthetic_body_model['vertex_mirror_index'])
    pose, betas = random_params(4, 1)
    flipped = flip_smpl_pose(pose)
    original = model(betas, pose[:, 3:], pose[:, :3])['vertices']
    mirrored = model(betas, flipped[:, 3:], flipped[:, :3])['vertices']
    expected = original[:, mirror] * torch.tensor([-1.0, 1.0, 1.0])
    torch.testing.assert_close(mirrored, expected, atol=2e-6, rtol=0)
    assert (original - mirrored).abs().max() > 0.05  # the test pose is not symmetric


def test_gendered_smpl_on_a_mixed_batch_equals_separate_models(synthetic_body_model):
    folder = synthetic_body_model['model_dir']
    gendered = GenderedSMPL(folder)
    pose, betas = random_params(6, 2)
    gender = torch.tensor([2, 0, 1, 1, 2, 0])
    vertices = gendered(pose, betas, gender)
    assert vertices.shape == (6, synthetic_body_model['num_vertices'][0], 3)
    for i, g in enumerate(gender.tolist()):
        single = SMPL(folder, gender=GENDERS[g])
        expected = single(betas[i:i + 1], pose[i:i + 1, 3:], pose[i:i + 1, :3])['vertices']
        torch.testing.assert_close(vertices[i:i + 1], expected)
    # genders really differ
    as_neutral = gendered(pose, betas, torch.zeros(6, dtype=torch.long))
    assert (as_neutral[0] - vertices[0]).abs().max() > 0.01
    assert gendered.state_dict() == {}


def test_gendered_smpl_input_checks(synthetic_body_model):
    gendered = GenderedSMPL(synthetic_body_model['model_dir'])
    pose, betas = random_params(2, 3)
    with pytest.raises(ValueError, match='gender values'):
        gendered(pose, betas, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match='batch size'):
        gendered(pose, betas, torch.tensor([0]))
    assert gendered(pose[:0], betas[:0], torch.zeros(0, dtype=torch.long)).shape[0] == 0


def test_gender_to_index():
    for value, index in (('n', 0), ('Male', 1), ('f', 2), ('neutral', 0), ('female', 2), (1, 1),
                         (np.int64(2), 2), (b'm', 1)):
        assert gender_to_index(value) == index
    for bad in ('x', 3, -1, True, None):
        with pytest.raises(ValueError):
            gender_to_index(bad)


def test_missing_models_name_the_path_and_the_source(tmp_path, synthetic_body_model):
    with pytest.raises(FileNotFoundError) as info:
        SMPL(tmp_path / 'SMPL_NEUTRAL.pkl')
    assert str(tmp_path / 'SMPL_NEUTRAL.pkl') in str(info.value)
    assert 'https://smpl.is.tue.mpg.de' in str(info.value)
    shutil.copy(synthetic_body_model['smpl_npz_paths']['neutral'], tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        GenderedSMPL(tmp_path)
    assert 'SMPL_MALE' in str(info.value) and 'https://smpl.is.tue.mpg.de' in str(info.value)


def test_input_shapes_are_checked(synthetic_body_model):
    model = SMPL(synthetic_body_model['smpl_paths']['neutral'])
    with pytest.raises(ValueError, match='betas'):
        model(torch.zeros(1, 11), torch.zeros(1, 69), torch.zeros(1, 3))
    with pytest.raises(ValueError, match='body_pose'):
        model(torch.zeros(1, 10), torch.zeros(1, 72), torch.zeros(1, 3))


def test_real_size_model_loads_with_smpl_sizes(synthetic_body_model_real_size):
    info = synthetic_body_model_real_size
    gendered = GenderedSMPL(info['model_dir'])
    pose, betas = random_params(3, 4, scale=0.2)
    vertices = gendered(pose, betas, torch.tensor([0, 1, 2]))
    assert vertices.shape == (3, 6890, 3) and gendered.faces.shape == (13776, 3)
    rest = SMPL(info['smpl_paths']['female'])(**ZERO)
    np.testing.assert_allclose(rest['joints'][0].numpy(), info['rest_joints']['female'],
                               atol=1e-5)
