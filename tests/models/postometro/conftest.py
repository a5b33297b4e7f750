"""Fixtures of the PostoMETRO tests (helpers live in ``postometro_test_utils``)."""
import numpy as np
import pytest
import torch
from postometro_test_utils import make_data_sample


@pytest.fixture(scope='module')
def synthetic_batch(synthetic_body_model):
    """Four samples with distinct poses and shapes and their GT J14 (4, 14, 3) m."""
    from postometro_mm.body_models.joint_regressors import load_joint_regressor
    from postometro_mm.body_models.smpl import GenderedSMPL
    body_model = GenderedSMPL(synthetic_body_model['model_dir'])
    regressor = load_joint_regressor(synthetic_body_model['j_regressor_h36m'])
    gen = torch.Generator().manual_seed(0)
    samples = []
    for i in range(4):
        pose = 0.4 * torch.randn(72, generator=gen)
        pose[:3] = torch.tensor([np.pi, 0.0, 0.0]) + 0.2 * torch.randn(3, generator=gen)
        betas = torch.randn(10, generator=gen)
        samples.append(make_data_sample(body_model, regressor, pose, betas, gender=i % 3))
    return samples
