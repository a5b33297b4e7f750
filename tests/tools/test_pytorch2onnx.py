"""tools/deployment/pytorch2onnx.py on the tiny PostoMETRO (tiny PCT tokens) and FastMETRO: the
exported graph, run by ONNX Runtime at several batch sizes, gives PyTorch's outputs."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmpose.registry import MODELS

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'deployment' / 'pytorch2onnx.py'
sys.path.insert(0, str(REPO / 'tests' / 'apis'))
from tiny_mesh_model import INPUT_SIZE, write_tiny_model  # noqa: E402


@pytest.fixture(scope='module')
def tiny_models(synthetic_body_model, tmp_path_factory):
    out = tmp_path_factory.mktemp('onnx_models')
    postometro = write_tiny_model(synthetic_body_model, str(out))
    cfg = Config.fromfile(postometro[0])
    cfg.model.update(pose_token_source='none', pose_tokenizer=None, neck=None)
    cfg.model.head.with_pose_tokens = False
    config = out / 'tiny_fastmetro.py'
    cfg.dump(str(config))
    torch.manual_seed(1)
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), out / 'tiny_fastmetro.pth')
    return dict(postometro=postometro, fastmetro=(str(config), str(out / 'tiny_fastmetro.pth')))


@pytest.mark.parametrize('variant', ['postometro', 'fastmetro'])
def test_exported_graph_gives_pytorch_outputs(tiny_models, variant, tmp_path, run_script):
    import onnxruntime
    from postometro_mm.apis import init_model
    config, checkpoint = tiny_models[variant]
    out = tmp_path / f'{variant}.onnx'
    int8 = tmp_path / f'{variant}_int8.onnx'
    status, err, stdout = run_script(TOOL, config, checkpoint, out, '--check-batches', 1, 4,
                                     '--int8', int8)
    assert status == 0, (err, stdout)
    assert 'batch 4: max |ONNX Runtime - PyTorch|' in stdout
    assert f'wrote {int8} (int8 MatMul / Gemm weights): vertices move by' in stdout
    import onnx
    quantized_ops = {node.op_type for node in onnx.load(str(int8)).graph.node}
    assert 'MatMulInteger' in quantized_ops or 'DynamicQuantizeMatMul' in quantized_ops

    # independently: the model on normalised RGB crops vs the graph on raw BGR crops
    model = init_model(config, checkpoint, device='cpu')
    crops = np.random.default_rng(3).uniform(0, 255, (5, 3, *INPUT_SIZE)).astype(np.float32)
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = model((torch.from_numpy(crops)[:, [2, 1, 0]] - mean) / std, mode='tensor')
    session = onnxruntime.InferenceSession(str(out), providers=['CPUExecutionProvider'])
    vertices, joints, camera = session.run(None, {'crops': crops})
    np.testing.assert_allclose(vertices, expected['pred_vertices'].numpy(), rtol=0, atol=1e-4)
    np.testing.assert_allclose(joints, expected['pred_joints'].numpy(), rtol=0, atol=1e-4)
    np.testing.assert_allclose(camera, expected['pred_cam'].numpy(), rtol=0, atol=1e-4)

    status, err, _ = run_script(TOOL, config, checkpoint, out)
    assert status == 1 and 'pass --force' in err


def test_test_onnx_gives_the_metrics_of_the_pytorch_model(synthetic_body_model, tmp_path,
                                                          run_script):
    """tools/deployment/test_onnx.py on a world split equals the same evaluation with the
    PyTorch model's predictions."""
    from mim_tiny_configs import INPUT_SIZE as TINY_SIZE
    from mim_tiny_configs import write_tiny_config
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner

    from postometro_mm.apis import init_model
    from postometro_mm.apis.onnx_export import export_onnx
    from postometro_mm.quickstart import generate_world
    world = generate_world(tmp_path / 'world', 2, 5, 1, image_size=64,
                           body_model=synthetic_body_model, progress=False)
    config = write_tiny_config(tmp_path, 'fastmetro-s', synthetic_body_model, world)
    torch.manual_seed(0)
    model = init_model(str(config), device='cpu')
    graph = tmp_path / 'tiny.onnx'
    cfg = model.cfg
    export_onnx(model, str(graph), (TINY_SIZE, TINY_SIZE))
    status, err, stdout = run_script(REPO / 'tools' / 'deployment' / 'test_onnx.py', config,
                                     graph, '--out', tmp_path / 'metrics.json')
    assert status == 0, err
    with DefaultScope.overwrite_default_scope('mmpose'):
        loader = Runner.build_dataloader(cfg.test_dataloader)
        evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = loader.dataset.metainfo
    with torch.no_grad():
        for batch in loader:
            evaluator.process(data_samples=model.test_step(batch), data_batch=batch)
    expected = evaluator.evaluate(len(loader.dataset))
    got = json.loads((tmp_path / 'metrics.json').read_text())
    assert set(got) == set(expected) and 'MPVPE' in ' '.join(got)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-2), key  # mm
        assert f'{key}: ' in stdout
