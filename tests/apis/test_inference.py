"""init_model / inference_mesh on a tiny PostoMETRO, checked against a hand-made crop."""
import numpy as np
import pytest
import torch

from postometro_mm.apis import (CheckpointMismatchError, InferenceInputError, init_model,
                                inference_mesh, mesh_faces)
from postometro_mm.utils.checkpoint_loading import UnsafeCheckpointError
from tiny_mesh_model import INPUT_SIZE, write_tiny_model
from crafted_pickles import RunsCode

MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])


def _image(h=96, w=128, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((h, w, 3)) * 255).astype(np.uint8)


def _manual_crop(image, box, padding=1.2):
    """Square crop of side padding·max(w, h) around the box centre, resized to INPUT_SIZE,
    ImageNet-normalised RGB (1, 3, H, W); plus its centre and side."""
    import cv2
    x1, y1, x2, y2 = box
    center = np.array([(x1 + x2) / 2, (y1 + y2) / 2])
    side = padding * max(x2 - x1, y2 - y1)
    k = INPUT_SIZE[0] / side
    matrix = np.array([[k, 0, INPUT_SIZE[0] / 2 - k * center[0]],
                       [0, k, INPUT_SIZE[1] / 2 - k * center[1]]])
    crop = cv2.warpAffine(image, matrix, INPUT_SIZE, flags=cv2.INTER_LINEAR)
    rgb = (crop[..., ::-1] - MEAN) / STD
    return torch.from_numpy(rgb.transpose(2, 0, 1)[None].astype(np.float32)), center, side


def test_init_model_loads_the_checkpoint(tiny_model, tiny_model_files):
    saved = torch.load(tiny_model_files['checkpoint'], weights_only=False)['state_dict']
    state = tiny_model.state_dict()
    assert set(saved) == set(state)
    assert all(torch.equal(saved[k], state[k]) for k in saved)
    names = [type(t).__name__ for t in tiny_model.inference_pipeline.transforms]
    assert names == ['LoadMeshImage', 'GetBBoxCenterScale', 'MeshTopdownAffine',
                     'PackMeshInputs']
    assert tiny_model.inference_pipeline.transforms[1].padding == 1.2
    assert not tiny_model.training
    faces = mesh_faces(tiny_model)
    assert faces.shape[1] == 3 and faces.max() == tiny_model.head.num_vertices_fine - 1


def test_inference_needs_no_smpl_files(tiny_model_files, tmp_path):
    from tiny_mesh_model import tiny_config
    cfg = tiny_config(tiny_model_files['body'])
    cfg.model.head.body_model = dict(type='GenderedSMPL', model_path=str(tmp_path / 'no_smpl'))
    model = init_model(cfg, tiny_model_files['checkpoint'], 'cpu')
    assert model.head.body_model is None
    assert len(inference_mesh(model, _image())) == 1


def test_checkpoint_that_does_not_match_the_config(tiny_model_files, tmp_path):
    config = tiny_model_files['config']
    _, other = write_tiny_model(tiny_model_files['body'], str(tmp_path), 'wider',
                                embed_dims=(48, 16))
    with pytest.raises(CheckpointMismatchError) as err:
        init_model(config, other, 'cpu')
    message = str(err.value)
    assert other in message and config in message and 'different shape' in message
    assert 'head.conv_1x1.weight: checkpoint (48, 64, 1, 1) vs model (32, 64, 1, 1)' in message

    reference_layout = tmp_path / 'reference.pth'
    torch.save({'transformer_1.encoder.norm.weight': torch.ones(3)}, reference_layout)
    with pytest.raises(CheckpointMismatchError, match='postometro_to_plugin'):
        init_model(config, str(reference_layout), 'cpu')
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        init_model(config, str(tmp_path / 'missing.pth'), 'cpu')


def test_a_crafted_checkpoint_is_refused_unless_unsafe_load(tiny_model_files, tmp_path):
    checkpoint = torch.load(tiny_model_files['checkpoint'], weights_only=False)
    marker = tmp_path / 'executed'
    evil = tmp_path / 'evil.pth'
    torch.save(dict(checkpoint, meta=dict(note=RunsCode(marker))), evil)
    with pytest.raises(UnsafeCheckpointError, match=r'evil\.pth.*system'):
        init_model(tiny_model_files['config'], str(evil), 'cpu')
    assert not marker.exists()
    # a trusted file with a class off the allow-list loads when asked explicitly
    trusted = tmp_path / 'trusted.pth'
    torch.save(dict(checkpoint, meta=dict(note=_Note())), trusted)
    with pytest.raises(UnsafeCheckpointError, match='_Note'):
        init_model(tiny_model_files['config'], str(trusted), 'cpu')
    model = init_model(tiny_model_files['config'], str(trusted), 'cpu', unsafe_load=True)
    assert torch.equal(model.state_dict()['head.conv_1x1.weight'],
                       checkpoint['state_dict']['head.conv_1x1.weight'])


class _Note:
    """A class a trusted legacy checkpoint may hold (not on the allow-list)."""


def test_prediction_matches_a_hand_made_crop(tiny_model, tiny_model_files):
    image = _image()
    box = (20.0, 10.0, 70.0, 90.0)
    pred = inference_mesh(tiny_model, image, [box], focal_length=1e5)[0].pred_instances
    inputs, center, side = _manual_crop(image, box)
    with torch.no_grad():
        raw = tiny_model(inputs, mode='tensor')
        decoded = tiny_model.pose_tokenizer.tokenize(inputs, decode=True)['keypoints']
    regressor = np.load(tiny_model_files['body']['j_regressor_h36m'])
    vertices = raw['pred_vertices'][0].numpy()
    pelvis = regressor[0] @ vertices
    np.testing.assert_allclose(pred.vertices[0], vertices - pelvis, atol=1e-5)
    np.testing.assert_allclose(regressor[0] @ pred.vertices[0], 0, atol=1e-5)
    np.testing.assert_allclose(pred.camera[0], raw['pred_cam'][0].numpy(), atol=1e-5)
    expected_2d = center + (decoded[0].numpy() / INPUT_SIZE[0] - 0.5) * side
    np.testing.assert_allclose(pred.decoded_keypoints[0], expected_2d, atol=1e-3)
    np.testing.assert_allclose(pred.bboxes[0], box)

    # the full-image camera reproduces the weak-perspective keypoints (long focal length)
    h, w = image.shape[:2]
    placed = pred.keypoints_3d[0].astype(np.float64) + pred.camera_translation[0]
    projected = 1e5 * placed[:, :2] / placed[:, 2:] + [w / 2, h / 2]
    np.testing.assert_allclose(projected, pred.keypoints[0], atol=0.05)


def test_decoded_pose_is_the_models_option_for_one_call(tiny_model):
    """inference_mesh switches the estimator's test_cfg.output_decoded_pose for the call only;
    the decoded pose costs no second pass of the tokenizer's backbone."""
    image = _image(seed=2)
    calls = []
    hook = tiny_model.pose_tokenizer.backbone.register_forward_hook(
        lambda *args: calls.append(1))
    try:
        with_pose = inference_mesh(tiny_model, image)[0].pred_instances
        assert len(calls) == 1
        without = inference_mesh(tiny_model, image, decode_pose=False)[0].pred_instances
    finally:
        hook.remove()
    assert with_pose.decoded_keypoints.shape == (1, 17, 2)
    assert 'decoded_keypoints' not in without
    np.testing.assert_array_equal(with_pose.vertices, without.vertices)
    assert 'output_decoded_pose' not in tiny_model.test_cfg  # restored


def test_focal_length_only_moves_the_mesh_in_depth(tiny_model):
    image = _image()
    default = inference_mesh(tiny_model, image)[0]
    assert default.metainfo['focal_length'] == pytest.approx(np.hypot(128, 96))
    longer = inference_mesh(tiny_model, image, focal_length=2 * np.hypot(128, 96))[0]
    t0 = default.pred_instances.camera_translation[0]
    t1 = longer.pred_instances.camera_translation[0]
    np.testing.assert_allclose(t1[2], 2 * t0[2], rtol=1e-5)
    np.testing.assert_allclose(t1[:2], t0[:2], rtol=1e-5)


def test_boxes_batches_and_formats(tiny_model):
    image = _image(seed=1)
    boxes = np.array([[10, 5, 60, 90, 0.9], [50, 20, 120, 95, 0.4]], dtype=np.float32)
    together = inference_mesh(tiny_model, image, boxes)
    one_by_one = inference_mesh(tiny_model, image, boxes, batch_size=1)
    xywh = boxes[:, :4].copy()
    xywh[:, 2:] -= xywh[:, :2]
    as_xywh = inference_mesh(tiny_model, image, xywh, bbox_format='xywh')
    assert len(together) == 2
    for a, b, c in zip(together, one_by_one, as_xywh):
        np.testing.assert_allclose(a.pred_instances.vertices, b.pred_instances.vertices,
                                   atol=1e-5)
        np.testing.assert_allclose(a.pred_instances.vertices, c.pred_instances.vertices,
                                   atol=1e-5)
    np.testing.assert_allclose([s.pred_instances.bbox_scores[0] for s in together], [0.9, 0.4])
    whole = inference_mesh(tiny_model, image)[0]
    np.testing.assert_allclose(whole.pred_instances.bboxes[0], [0, 0, 128, 96])
    np.testing.assert_allclose(whole.metainfo['input_scale'], [1.2 * 128] * 2, rtol=1e-5)
    assert inference_mesh(tiny_model, image, np.zeros((0, 4))) == []
    with pytest.raises(InferenceInputError, match='no area'):
        inference_mesh(tiny_model, image, [[50, 10, 40, 90]])
    with pytest.raises(InferenceInputError, match=r'\(N, 4\)'):
        inference_mesh(tiny_model, image, [[1, 2, 3]])
    with pytest.raises(InferenceInputError, match=r'box 1 \[10.0, nan, 40.0, 90.0\].*non-finite'):
        inference_mesh(tiny_model, image, [[10, 10, 40, 90], [10, np.nan, 40, 90]])
    with pytest.raises(InferenceInputError, match=r'box 0 .* wholly outside the 128x96 image'):
        inference_mesh(tiny_model, image, [[130, 10, 170, 90]])
    partly_outside = inference_mesh(tiny_model, image, [[-20, -10, 60, 120]])  # padded crop
    assert np.isfinite(partly_outside[0].pred_instances.vertices).all()


def test_images_that_are_not_uint8_bgr_of_a_person_size_are_refused(tiny_model):
    image = _image()
    with pytest.raises(InferenceInputError, match=r'uint8 BGR.*float32.*\* 255'):
        inference_mesh(tiny_model, image.astype(np.float32) / 255)
    with pytest.raises(InferenceInputError, match=r'1x1 px: too small'):
        inference_mesh(tiny_model, image[:1, :1])


def test_unreadable_images_are_named(tiny_model, tmp_path):
    corrupt = tmp_path / 'corrupt.jpg'
    corrupt.write_bytes(b'\xff\xd8 this is not a jpeg')
    with pytest.raises(InferenceInputError, match='corrupt.jpg.*cannot be decoded'):
        inference_mesh(tiny_model, str(corrupt))
    with pytest.raises(InferenceInputError, match='nothere.png.*does not exist'):
        inference_mesh(tiny_model, str(tmp_path / 'nothere.png'))
