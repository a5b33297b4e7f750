"""The paper configs resolve to the intended architectures (built on the meta device)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = Path(__file__).resolve().parents[2]

# Parameter counts (millions) of the PostoMETRO/FastMETRO variants with SMPL's mesh sizes, as
# reported by tools/analysis/benchmark_postometro.py; PCT-Base alone has 128.1 M (SPEC: ~128 M).
EXPECTED_PARAMS_M = {
    'postometro-s_r50_mixed-256x256.py': 164.4,
    'fastmetro-s_r50_mixed-256x256.py': 33.5,
    'postometro-l_hrnet-w48_mixed-256x256.py': 221.0,
    'fastmetro-l_hrnet-w48_mixed-256x256.py': 90.2,
}


def build_on_meta(config: Path, body: dict):
    from mmpose.registry import MODELS
    import postometro_mm  # noqa: F401
    cfg = Config.fromfile(str(config))
    head = cfg.model.head
    head.mesh_sampler.filename = body['mesh_sampler']
    head.mesh_sampler.allow_pickle = False
    head.joint_regressor = body['j_regressor_h36m']
    head.body_model.model_path = body['model_dir']
    init_default_scope('mmpose')
    with torch.device('meta'):
        return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize('name', sorted(EXPECTED_PARAMS_M))
def test_paper_config_parameter_count(name, synthetic_body_model_real_size):
    cfg, model = build_on_meta(REPO / 'configs' / 'postometro' / name,
                               synthetic_body_model_real_size)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    assert params == pytest.approx(EXPECTED_PARAMS_M[name], abs=0.1)
    layers = 3 if '-l_' in name else 1
    assert len(model.head.transformer_1.encoder.layers) == layers
    assert len(model.head.transformer_2.decoder.layers) == layers
    assert (model.pose_tokenizer is None) == name.startswith('fastmetro')


def test_every_postometro_config_builds(synthetic_body_model):
    """All final configs (train, fine-tune, subset tests) build with a (small) body model."""
    configs = sorted((REPO / 'configs' / 'postometro').glob('*.py'))
    assert len(configs) >= 13
    for config in configs:
        cfg, model = build_on_meta(config, synthetic_body_model)
        assert type(model).__name__ == 'MeshEstimator', config.name
        assert cfg.test_dataloader.sampler.round_up is False, config.name
        assert cfg.test_evaluator.type == 'MeshMetric', config.name
