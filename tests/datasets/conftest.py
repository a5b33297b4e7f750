"""Session fixtures of the data-layer tests (builders: ``mesh_data_builders.py``)."""
from typing import Any, Dict

import pytest
from mmengine.registry import init_default_scope
from mesh_data_builders import (SyntheticPeople, build_metro_tsv_set, build_oh3d_root,
                                build_pw3d_root, build_spin_npz_set)


@pytest.fixture(scope='session', autouse=True)
def mmpose_scope() -> None:
    """Configs run with ``default_scope='mmpose'``; pipelines here are built the same way."""
    init_default_scope('mmpose')


@pytest.fixture(scope='session')
def people(synthetic_body_model) -> SyntheticPeople:
    """Posed synthetic SMPL people (neutral/male/female models of the synthetic body)."""
    return SyntheticPeople(synthetic_body_model)


@pytest.fixture(scope='session')
def spin_npz_set(tmp_path_factory, people) -> Dict[str, Any]:
    return build_spin_npz_set(str(tmp_path_factory.mktemp('spin_npz')), people)


@pytest.fixture(scope='session')
def pw3d_root(tmp_path_factory, people) -> Dict[str, Any]:
    return build_pw3d_root(str(tmp_path_factory.mktemp('3DPW')), people)


@pytest.fixture(scope='session')
def metro_tsv_set(tmp_path_factory, people) -> Dict[str, Any]:
    return build_metro_tsv_set(str(tmp_path_factory.mktemp('metro_tsv')), people)


@pytest.fixture(scope='session')
def oh3d_root(tmp_path_factory, people) -> Dict[str, Any]:
    return build_oh3d_root(str(tmp_path_factory.mktemp('3DOH50K')), people)
