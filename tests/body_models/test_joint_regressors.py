import numpy as np
import pytest
import torch

from postometro_mm.body_models import (H36M17_NAMES, J14_NAMES, J24_NAMES, J24_TO_J14, SMPL,
                                       SMPL_EXTRA14_NAMES, flip_smpl_pose,
                                       load_joint_regressor, mesh_to_j14, mesh_to_j24,
                                       regress_joints)
from postometro_mm.body_models import joint_sets as js


def test_regress_joints_matches_numpy():
    rng = np.random.default_rng(0)
    vertices, regressor = rng.normal(size=(2, 7, 3)), rng.normal(size=(4, 7))
    out = regress_joints(torch.from_numpy(vertices), torch.from_numpy(regressor).float())
    expected = np.stack([regressor @ v for v in vertices])
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6)
    with pytest.raises(ValueError, match='same V'):
        regress_joints(torch.zeros(1, 6, 3), torch.zeros(4, 7))


def test_missing_regressor_names_the_file(tmp_path):
    path = tmp_path / 'J_regressor_h36m_correct.npy'
    with pytest.raises(FileNotFoundError) as info:
        load_joint_regressor(path)
    assert str(path) in str(info.value) and 'METRO' in str(info.value)
    np.save(path, np.zeros(5))
    with pytest.raises(ValueError, match=r'\(J, V\)'):
        load_joint_regressor(path)


def test_synthetic_regressors_give_the_designed_joints(synthetic_body_model):
    info = synthetic_body_model
    extra = load_joint_regressor(info['j_regressor_extra'])
    h36m = load_joint_regressor(info['j_regressor_h36m'])
    assert extra.shape == (14, info['num_vertices'][0]) and h36m.shape[0] == 17
    np.testing.assert_allclose(extra.sum(1).numpy(), 1.0, atol=1e-6)
    for gender in ('neutral', 'male', 'female'):
        rest = SMPL(info['smpl_paths'][gender])(
            torch.zeros(1, 10), torch.zeros(1, 69), torch.zeros(1, 3))['vertices']
        np.testing.assert_allclose(regress_joints(rest, extra)[0].numpy(),
                                   info['extra_joints'][gender], atol=1e-5)
        np.testing.assert_allclose(regress_joints(rest, h36m)[0].numpy(),
                                   info['h36m_joints'][gender], atol=1e-5)


def test_synthetic_named_joints_sit_where_their_names_say(synthetic_body_model):
    extra = dict(zip(SMPL_EXTRA14_NAMES, synthetic_body_model['extra_joints']['neutral']))
    h36m = dict(zip(H36M17_NAMES, synthetic_body_model['h36m_joints']['neutral']))
    assert extra['Top_of_Head'][1] > extra['Head'][1] > extra['Neck'][1] > extra['Thorax'][1]
    assert extra['Thorax'][1] > extra['Spine'][1] > extra['Pelvis'][1]
    assert extra['Nose'][2] > extra['Head'][2] + 0.05  # on the front of the face
    assert extra['L_Eye'][0] > 0 > extra['R_Eye'][0] and extra['L_Ear'][0] > 0 > extra['R_Ear'][0]
    assert extra['Jaw'][1] < extra['Nose'][1] < extra['L_Eye'][1]
    np.testing.assert_allclose(extra['Pelvis'], (extra['L_Hip'] + extra['R_Hip']) / 2)
    assert h36m['L_Wrist'][0] > h36m['L_Elbow'][0] > h36m['L_Shoulder'][0] > 0
    assert h36m['R_Ankle'][1] < h36m['R_Knee'][1] < h36m['R_Hip'][1]


def test_j14_from_h36m_equals_j24_selection_on_synthetic_model(synthetic_body_model):
    """Both evaluation paths use the same vertex sets on the synthetic body."""
    info = synthetic_body_model
    model = SMPL(info['smpl_paths']['neutral'])
    gen = torch.Generator().manual_seed(0)
    pose = torch.randn(2, 72, generator=gen) * 0.3
    vertices = model(torch.randn(2, 10, generator=gen), pose[:, 3:], pose[:, :3])['vertices']
    j14 = mesh_to_j14(vertices, load_joint_regressor(info['j_regressor_h36m']))
    j24 = mesh_to_j24(vertices, model.joint_regressor,
                      load_joint_regressor(info['j_regressor_extra']))
    assert j14.shape == (2, 14, 3) and j24.shape == (2, 24, 3)
    torch.testing.assert_close(j14, j24[:, J24_TO_J14], atol=1e-6, rtol=0)
    # J24 SMPL-derived joints really are SMPL joints (e.g. R_Ankle = SMPL right_ankle)
    smpl_joints = regress_joints(vertices, model.joint_regressor)
    torch.testing.assert_close(j24[:, J24_NAMES.index('R_Ankle')], smpl_joints[:, 8])
    assert J14_NAMES[-1] == 'Head'


def test_flipping_mirrors_the_j24_joints(synthetic_body_model):
    info = synthetic_body_model
    model = SMPL(info['smpl_paths']['neutral'])
    extra = load_joint_regressor(info['j_regressor_extra'])
    pose = torch.randn(3, 72, generator=torch.Generator().manual_seed(5)) * 0.3
    betas = torch.zeros(3, 10)
    flipped = flip_smpl_pose(pose)
    j24 = mesh_to_j24(model(betas, pose[:, 3:], pose[:, :3])['vertices'],
                      model.joint_regressor, extra)
    j24_flipped = mesh_to_j24(model(betas, flipped[:, 3:], flipped[:, :3])['vertices'],
                              model.joint_regressor, extra)
    expected = j24[:, js.J24_FLIP_PERM] * torch.tensor([-1.0, 1.0, 1.0])
    torch.testing.assert_close(j24_flipped, expected, atol=2e-6, rtol=0)


def test_reference_regressors_on_real_size_model(synthetic_body_model_real_size):
    info = synthetic_body_model_real_size
    model = SMPL(info['smpl_paths']['neutral'])
    vertices = model(torch.zeros(1, 10), torch.zeros(1, 69), torch.zeros(1, 3))['vertices']
    j24 = mesh_to_j24(vertices, model.joint_regressor,
                      load_joint_regressor(info['j_regressor_extra']))[0]
    names = {n: j24[i] for i, n in enumerate(J24_NAMES)}
    assert names['L_Hip'][0] > 0.05 > -0.05 > names['R_Hip'][0]
    assert names['Top_of_Head'][1] > names['Nose'][1] > names['Neck'][1] > names['Pelvis'][1]
    assert names['L_Wrist'][0] > 0.5 and names['R_Ankle'][1] < -0.9
