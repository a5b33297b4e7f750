"""tools/deployment/pytorch2onnx.py on the tiny PostoMETRO (tiny PCT tokens), FastMETRO and the
tiny stage-2 PCT itself: the exported graph, run by ONNX Runtime at several batch sizes, gives
PyTorch's outputs, the decoded 2D pose and the pose tokens included."""
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
from tiny_mesh_model import INPUT_SIZE, TINY_PCT, write_tiny_model  # noqa: E402

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)


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
    pct = Config(dict(
        default_scope='mmpose', model=dict(
            TINY_PCT, data_preprocessor=dict(
                type='PoseDataPreprocessor', mean=MEAN.flatten().tolist(),
                std=STD.flatten().tolist(), bgr_to_rgb=True)),
        test_dataloader=dict(dataset=dict(pipeline=[
            dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
            dict(type='TopdownAffine', input_size=INPUT_SIZE), dict(type='PackPoseInputs')]))))
    pct.dump(str(out / 'tiny_pct.py'))
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(pct.model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), out / 'tiny_pct.pth')
    return dict(postometro=postometro, fastmetro=(str(config), str(out / 'tiny_fastmetro.pth')),
                pct=(str(out / 'tiny_pct.py'), str(out / 'tiny_pct.pth')))


@pytest.mark.parametrize('variant', ['postometro', 'fastmetro', 'pct'])
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
    moved = 'keypoints' if variant == 'pct' else 'vertices'
    assert f'wrote {int8} (int8 MatMul / Gemm weights): {moved} move by' in stdout
    import onnx
    quantized_ops = {node.op_type for node in onnx.load(str(int8)).graph.node}
    assert 'MatMulInteger' in quantized_ops or 'DynamicQuantizeMatMul' in quantized_ops

    # independently: the model on normalised RGB crops vs the graph on raw BGR crops
    model = init_model(config, checkpoint, device='cpu')
    crops = np.random.default_rng(3).uniform(0, 255, (5, 3, *INPUT_SIZE)).astype(np.float32)
    inputs = (torch.from_numpy(crops)[:, [2, 1, 0]] - MEAN) / STD
    with torch.no_grad():
        if variant == 'pct':
            pred = model.tokenize(inputs, decode=True)
            expected = dict(keypoints=pred['keypoints'],
                            keypoint_scores=pred['pose_scores'].mean(1).expand(-1, 17),
                            pose_feats=pred['pose_feats'], pose_scores=pred['pose_scores'])
        else:
            pred = model(inputs, mode='tensor')
            expected = dict(vertices=pred['pred_vertices'], joints=pred['pred_joints'],
                            camera=pred['pred_cam'])
            if variant == 'postometro':  # the pose decoded from the PCT's tokens, crop fractions
                keypoints = model.pose_tokenizer.tokenize(inputs, decode=True)['keypoints']
                expected['decoded_keypoints'] = keypoints / torch.tensor(INPUT_SIZE[::-1])
    session = onnxruntime.InferenceSession(str(out), providers=['CPUExecutionProvider'])
    names = [output.name for output in session.get_outputs()]
    assert names == list(expected)
    for name, value in zip(names, session.run(None, {'crops': crops})):
        np.testing.assert_allclose(value, expected[name].numpy(), rtol=0, atol=1e-4,
                                   err_msg=name)

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


def test_postometro_s_graph_gives_pytorch_outputs(reference_data_dir, tmp_path):
    """The real PostoMETRO-S config (PCT-Base tokenizer, ResNet-50, S head, SMPL topology),
    random weights: ONNX Runtime fp32 equals eager PyTorch within 1e-4 at batch 2."""
    from postometro_mm.apis import init_model
    from postometro_mm.apis.onnx_export import crop_size, export_onnx, pytorch_outputs
    from postometro_mm.apis.onnxruntime_model import onnxruntime_outputs
    topology = reference_data_dir / 'smpl_topology'
    torch.manual_seed(0)
    model = init_model(str(REPO / 'configs' / 'postometro' / 'postometro-s_r50_mixed-256x256.py'),
                       device='cpu', cfg_options={
                           'model.head.mesh_sampler.filename':
                           str(topology / 'mesh_downsampling.npz'),
                           'model.head.joint_regressor':
                           str(topology / 'J_regressor_h36m_correct.npy')})
    size = crop_size(model)
    assert size == (256, 256)
    graph = tmp_path / 'postometro-s.onnx'
    names = export_onnx(model, str(graph), size)
    assert names == ('vertices', 'joints', 'camera', 'decoded_keypoints')
    crops = np.random.default_rng(0).uniform(0, 255, (2, 3, *size)).astype(np.float32)
    expected, got = pytorch_outputs(model, crops), onnxruntime_outputs(str(graph), crops)
    assert got['vertices'].shape == (2, 6890, 3)
    for name in names:
        np.testing.assert_allclose(got[name], expected[name], rtol=0, atol=1e-4, err_msg=name)
