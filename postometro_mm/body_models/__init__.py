"""Body-model layer: SMPL (via smplx, chumpy-free), joint sets and regressors, mesh sampler,
and a synthetic SMPL-format body model generator for tests and the quickstart."""
from .j24 import SMPLJ24Regressor
from .joint_regressors import (load_joint_regressor, mesh_to_j14, mesh_to_j24,
                               regress_joints)
from .joint_sets import (COCO17_FLIP_PERM, COCO17_NAMES, H36M17_FLIP_PERM, H36M17_NAMES,
                         H36M17_PELVIS_INDEX, H36M17_TO_J14, J14_FLIP_PERM, J14_HIP_INDICES,
                         J14_NAMES, J24_FLIP_PERM, J24_NAMES, J24_TO_COCO17, J24_TO_J14,
                         SMPL24_FLIP_PERM, SMPL24_NAMES, SMPL24_PARENTS, SMPL38_TO_J24,
                         SMPL_EXTRA14_FLIP_PERM, SMPL_EXTRA14_NAMES, flip_permutation,
                         flip_smpl_pose, mirror_joint_name)
from .mesh_sampler import MeshSampler, read_mesh_sampler_file
from .restricted_pickle import DisallowedPickleError
from .smpl import SMPL, GenderedSMPL, gender_to_index
from .smpl_io import (GENDERS, SMPL_SOURCE_HINT, load_smpl_model_file, resolve_smpl_path,
                      save_smpl_model_npz)
from .synthetic import write_synthetic_body_model

__all__ = [
    'SMPL', 'GenderedSMPL', 'SMPLJ24Regressor', 'GENDERS', 'gender_to_index',
    'load_smpl_model_file', 'save_smpl_model_npz', 'resolve_smpl_path', 'SMPL_SOURCE_HINT',
    'DisallowedPickleError', 'MeshSampler', 'read_mesh_sampler_file', 'load_joint_regressor',
    'regress_joints', 'mesh_to_j14', 'mesh_to_j24', 'write_synthetic_body_model', 'SMPL24_NAMES',
    'SMPL24_PARENTS', 'SMPL_EXTRA14_NAMES', 'J24_NAMES', 'J14_NAMES', 'H36M17_NAMES',
    'COCO17_NAMES', 'SMPL38_TO_J24', 'J24_TO_J14', 'H36M17_TO_J14', 'J24_TO_COCO17',
    'H36M17_PELVIS_INDEX', 'J14_HIP_INDICES', 'SMPL24_FLIP_PERM', 'SMPL_EXTRA14_FLIP_PERM',
    'J24_FLIP_PERM', 'J14_FLIP_PERM', 'H36M17_FLIP_PERM', 'COCO17_FLIP_PERM',
    'flip_permutation', 'flip_smpl_pose', 'mirror_joint_name'
]
