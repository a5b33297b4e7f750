"""Fixtures of the inference-API tests: a tiny PostoMETRO written as config + checkpoint."""
import pytest
from tiny_mesh_model import write_tiny_model


@pytest.fixture(scope='session')
def tiny_model_files(synthetic_body_model, tmp_path_factory):
    """dict(config, checkpoint, body) of the tiny model (random weights, camera scale ≈ 1)."""
    out_dir = tmp_path_factory.mktemp('tiny_mesh_model')
    config, checkpoint = write_tiny_model(synthetic_body_model, str(out_dir))
    return dict(config=config, checkpoint=checkpoint, body=synthetic_body_model,
                out_dir=out_dir)


@pytest.fixture(scope='module')
def tiny_model(tiny_model_files):
    from postometro_mm.apis import init_model
    return init_model(tiny_model_files['config'], tiny_model_files['checkpoint'], 'cpu')
