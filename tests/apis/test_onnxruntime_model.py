"""The ONNX Runtime backend of the inference API: the tiny PostoMETRO exported to ONNX gives the
PyTorch model's predictions through ``inference_mesh`` and ``MeshInferencer`` (vertices, 3D
joints, cameras, 2D keypoints, the 2D pose decoded from the pose tokens, placement), and bad
inputs give clear errors."""
import numpy as np
import pytest
import torch
from mmengine.config import Config

from postometro_mm.apis import (MeshInferencer, ONNXRuntimeMeshModel, inference_mesh,
                                mesh_faces)
from postometro_mm.apis.onnx_export import export_onnx
from tiny_mesh_model import INPUT_SIZE

BOXES = np.array([[0, 0, 60, 90], [40, 10, 120, 95], [10, 20, 50, 60]], dtype=np.float32)


@pytest.fixture(scope='module')
def exported(tiny_model_files, tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp('onnx') / 'tiny.onnx'
    export_onnx(tiny_model, str(path), INPUT_SIZE)
    return str(path)


@pytest.fixture(scope='module')
def image():
    return (np.random.default_rng(5).random((96, 128, 3)) * 255).astype(np.uint8)


def test_onnxruntime_predictions_equal_pytorch(tiny_model_files, tiny_model, exported, image):
    ort_model = ONNXRuntimeMeshModel(tiny_model_files['config'], exported, threads=1)
    assert ort_model.can_decode_pose
    expected = inference_mesh(tiny_model, image, BOXES, batch_size=2)
    got = inference_mesh(ort_model, image, BOXES, batch_size=2)
    assert len(got) == len(expected) == 3
    for ours, ref in zip(got, expected):
        a, b = ours.pred_instances, ref.pred_instances
        assert set(a.keys()) == set(b.keys()) and 'decoded_keypoints' in a
        for key in ('vertices', 'keypoints_3d', 'camera'):
            np.testing.assert_allclose(a[key], b[key], rtol=0, atol=1e-4, err_msg=key)
        for key in ('keypoints', 'decoded_keypoints'):  # px
            np.testing.assert_allclose(a[key], b[key], rtol=0, atol=1e-2, err_msg=key)
        np.testing.assert_allclose(a.camera_translation, b.camera_translation, rtol=1e-3,
                                   atol=1e-3)
        np.testing.assert_array_equal(a.bboxes, b.bboxes)
    # root-relative output: the mesh's own H36M pelvis is at the origin
    regressor = ort_model.h36m_regressor.numpy()
    pelvis = regressor[0] @ got[0].pred_instances.vertices[0]
    np.testing.assert_allclose(pelvis, 0, atol=1e-6)
    np.testing.assert_array_equal(mesh_faces(ort_model), mesh_faces(tiny_model))
    # sessions whose idle threads sleep instead of spinning give the same numbers
    quiet = ONNXRuntimeMeshModel(tiny_model_files['config'], exported, threads=2,
                                 spinning=False)
    again = inference_mesh(quiet, image, BOXES, batch_size=2)
    for ours, ref in zip(again, got):
        np.testing.assert_allclose(ours.pred_instances.vertices, ref.pred_instances.vertices,
                                   rtol=0, atol=1e-6)


def test_mesh_inferencer_with_the_onnxruntime_backend(tiny_model_files, exported, image):
    inferencer = MeshInferencer(tiny_model_files['config'], exported, device='cpu',
                                backend='onnxruntime', threads=1)
    assert isinstance(inferencer.model, ONNXRuntimeMeshModel)
    assert inferencer.has_decoded_pose
    result = inferencer.process_frame(_frame(image), bboxes=BOXES[:2], pose_2d=True)
    assert len(result['predictions'].pred_instances) == 2
    assert result['predictions'].pred_instances.decoded_keypoints.shape == (2, 17, 2)
    assert result['visualization'].shape == (image.shape[0], 2 * image.shape[1], 3)


def _frame(image):
    from postometro_mm.apis import Frame
    return Frame(image=image, index=0, name='noise', path=None)


def test_bad_inputs_are_named(tiny_model_files, exported, tmp_path, image):
    with pytest.raises(FileNotFoundError, match='missing.onnx'):
        ONNXRuntimeMeshModel(tiny_model_files['config'], str(tmp_path / 'missing.onnx'))
    vqhps = Config.fromfile(tiny_model_files['config'])
    vqhps.model.head.type = 'VQHPSHead'
    with pytest.raises(ValueError, match='VQHPSHead'):
        ONNXRuntimeMeshModel(vqhps, exported)
    with pytest.raises(ValueError, match='needs weights'):
        MeshInferencer(tiny_model_files['config'], backend='onnxruntime')
    with pytest.raises(ValueError, match='backend must be one of'):
        MeshInferencer(tiny_model_files['config'], backend='tensorrt')
    # a pipeline cropping another size than the graph was exported at
    bigger = Config.fromfile(tiny_model_files['config'])
    for step in bigger.test_dataloader.dataset.pipeline:
        if 'input_size' in step:
            step['input_size'] = (96, 96)
    model = ONNXRuntimeMeshModel(bigger, exported)
    with pytest.raises(ValueError, match=r'takes \(64, 64\) crops'):
        inference_mesh(model, image, BOXES[:1])


def test_int8_graph_runs_through_the_api(tiny_model_files, tiny_model, exported, image,
                                         tmp_path):
    from postometro_mm.apis.onnx_export import quantize_int8
    int8 = tmp_path / 'tiny_int8.onnx'
    quantize_int8(exported, str(int8))
    got = inference_mesh(ONNXRuntimeMeshModel(tiny_model_files['config'], str(int8)), image,
                         BOXES[:1])[0].pred_instances
    expected = inference_mesh(tiny_model, image, BOXES[:1],
                              decode_pose=False)[0].pred_instances
    change = np.abs(got.vertices - expected.vertices).max()
    assert np.isfinite(got.vertices).all() and change < 0.5 * np.abs(expected.vertices).max()
    with torch.no_grad():  # the PyTorch model is untouched by the export
        again = inference_mesh(tiny_model, image, BOXES[:1], decode_pose=False)[0]
    np.testing.assert_array_equal(again.pred_instances.vertices, expected.vertices)
