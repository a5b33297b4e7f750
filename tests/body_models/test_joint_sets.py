import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from postometro_mm.body_models import joint_sets as js


def twin(name: str) -> str:
    """Independent statement of the mirror naming used by every joint set."""
    pairs = {'L_': 'R_', 'R_': 'L_', 'left_': 'right_', 'right_': 'left_'}
    for prefix, other in pairs.items():
        if name.startswith(prefix):
            return other + name[len(prefix):]
    return name


FLIPS = {
    'SMPL24': (js.SMPL24_NAMES, js.SMPL24_FLIP_PERM),
    'EXTRA14': (js.SMPL_EXTRA14_NAMES, js.SMPL_EXTRA14_FLIP_PERM),
    'J24': (js.J24_NAMES, js.J24_FLIP_PERM),
    'J14': (js.J14_NAMES, js.J14_FLIP_PERM),
    'H36M17': (js.H36M17_NAMES, js.H36M17_FLIP_PERM),
    'COCO17': (js.COCO17_NAMES, js.COCO17_FLIP_PERM),
}


@pytest.mark.parametrize('set_name', sorted(FLIPS))
def test_flip_permutations_are_involutions_mapping_to_mirror_names(set_name):
    names, perm = FLIPS[set_name]
    assert perm.dtype == np.int64 and sorted(perm.tolist()) == list(range(len(names)))
    np.testing.assert_array_equal(perm[perm], np.arange(len(names)))
    for i, name in enumerate(names):
        assert names[perm[i]] == twin(name), (set_name, name)
    # every set has sided joints, and they really move
    assert (perm != np.arange(len(names))).sum() >= 4


def test_known_flip_values():
    assert js.J24_FLIP_PERM.tolist() == [5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13, 14, 15,
                                         16, 17, 18, 19, 21, 20, 23, 22]
    assert js.COCO17_FLIP_PERM.tolist() == [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13,
                                            16, 15]


def _canonical(name: str) -> str:
    name = name.lower().replace('left_', 'l_').replace('right_', 'r_')
    return name


def test_index_tables_by_name():
    assert js.J14_NAMES == js.J24_NAMES[:12] + ('Neck', 'Head')
    assert tuple(js.H36M17_NAMES[i] for i in js.H36M17_TO_J14) == js.J14_NAMES
    coco_from_j24 = [_canonical(js.J24_NAMES[i]) for i in js.J24_TO_COCO17]
    assert coco_from_j24 == [_canonical(n) for n in js.COCO17_NAMES]
    # J24 from 24 SMPL + 14 extra joints (METRO's JOINTS_IDX): same joints by name, with the
    # hips taken from the extra (LSP-style) regressor.
    names38 = [_canonical(n) for n in js.SMPL24_NAMES + js.SMPL_EXTRA14_NAMES]
    picked = [names38[i] for i in js.SMPL38_TO_J24]
    assert picked == [_canonical(n) for n in js.J24_NAMES]
    assert js.SMPL38_TO_J24[js.J24_NAMES.index('R_Hip')] >= 24
    for table in (js.J24_TO_J14, js.H36M17_TO_J14, js.J24_TO_COCO17, js.SMPL38_TO_J24):
        assert table.dtype == np.int64
    assert js.H36M17_NAMES[js.H36M17_PELVIS_INDEX] == 'Pelvis'
    assert [js.J14_NAMES[i] for i in js.J14_HIP_INDICES] == ['R_Hip', 'L_Hip']


def test_smpl_parents_are_a_tree_in_order():
    parents = js.SMPL24_PARENTS
    assert parents[0] == -1 and all(0 <= p < j for j, p in enumerate(parents) if j)
    # mirror twins hang from mirror twins
    perm = js.SMPL24_FLIP_PERM
    for j in range(1, 24):
        assert parents[perm[j]] == perm[parents[j]]


def test_flip_smpl_pose_matches_mirrored_rotations():
    rng = np.random.default_rng(0)
    pose = rng.normal(scale=0.6, size=(5, 72))
    flipped = js.flip_smpl_pose(pose)
    mirror = np.diag([-1.0, 1.0, 1.0])
    rot = Rotation.from_rotvec(pose.reshape(-1, 3)).as_matrix().reshape(5, 24, 3, 3)
    rot_flipped = Rotation.from_rotvec(flipped.reshape(-1, 3)).as_matrix().reshape(5, 24, 3, 3)
    for j in range(24):
        twin_j = js.SMPL24_NAMES.index(twin(js.SMPL24_NAMES[j]))
        np.testing.assert_allclose(rot_flipped[:, twin_j], mirror @ rot[:, j] @ mirror,
                                   atol=1e-10)


def test_flip_smpl_pose_twice_is_identity_numpy_and_torch():
    rng = np.random.default_rng(1)
    pose = rng.normal(size=(2, 3, 72)).astype(np.float32)
    np.testing.assert_array_equal(js.flip_smpl_pose(js.flip_smpl_pose(pose)), pose)
    tensor = torch.from_numpy(pose)
    flipped = js.flip_smpl_pose(tensor)
    assert isinstance(flipped, torch.Tensor) and flipped.dtype == torch.float32
    np.testing.assert_array_equal(flipped.numpy(), js.flip_smpl_pose(pose))
    assert torch.equal(js.flip_smpl_pose(flipped), tensor)
    assert not np.array_equal(js.flip_smpl_pose(pose), pose)


def test_flip_smpl_pose_rejects_wrong_size():
    with pytest.raises(ValueError, match='72'):
        js.flip_smpl_pose(np.zeros((2, 69)))


def test_flip_permutation_reports_missing_twin():
    with pytest.raises(ValueError, match='R_Hip'):
        js.flip_permutation(('L_Hip', 'Pelvis'))
