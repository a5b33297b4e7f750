"""MeshEstimator's test_cfg.output_decoded_pose: the COCO-17 pose decoded from the very pose
tokens the head consumed, in original-image pixels, without running PCT twice."""
import numpy as np
import pytest
import torch
from postometro_test_utils import tiny_backbone_cfg, tiny_head_cfg, tiny_neck_cfg
from test_postometro_pct_tokens import TINY_PCT

from mmpose.registry import MODELS

CENTER, SCALE, SIZE = np.array([100.0, 80.0]), np.array([128.0, 128.0]), 64  # make_data_sample


def _build(body, source='pct', decode=True, **kwargs):
    neck = tiny_neck_cfg(in_channels=2, num_tokens=17) if source == 'raw_keypoints' else \
        tiny_neck_cfg(in_channels=12, num_tokens=6)
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='MeshEstimator', backbone=tiny_backbone_cfg(), neck=neck,
        head=tiny_head_cfg(body, with_body_model=False), pose_tokenizer=TINY_PCT,
        pose_token_source=source, test_cfg=dict(output_decoded_pose=decode),
        **kwargs)).eval()


def _images(n=4):
    return torch.randn(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))


def _to_image(crop_px):
    """Independent crop px -> image px for the fixed crop of ``make_data_sample``."""
    return CENTER + (np.asarray(crop_px, np.float64) / SIZE - 0.5) * SCALE


def _predict(model, inputs, samples):
    with torch.no_grad():
        return [s.pred_instances for s in model(inputs, samples, mode='predict')]


def test_decoded_pose_of_the_pct_tokens(synthetic_body_model, synthetic_batch):
    model = _build(synthetic_body_model)
    assert model.can_decode_pose
    inputs = _images()
    calls = []
    model.pose_tokenizer.backbone.register_forward_hook(lambda *args: calls.append(1))
    preds = _predict(model, inputs, synthetic_batch)
    assert len(calls) == 1  # the tokenizer's backbone ran once for tokens and decoded pose
    with torch.no_grad():
        decoded = model.pose_tokenizer.tokenize(inputs, decode=True)['keypoints'].numpy()
    for i, pred in enumerate(preds):
        assert pred.decoded_keypoints.shape == (1, 17, 2)
        assert pred.decoded_keypoints.dtype == np.float32
        np.testing.assert_allclose(pred.decoded_keypoints[0], _to_image(decoded[i]),
                                   atol=1e-4)
    # the option adds a field and changes nothing else
    model.test_cfg['output_decoded_pose'] = False
    plain = _predict(model, inputs, synthetic_batch)
    for pred, other in zip(preds, plain):
        assert 'decoded_keypoints' not in other
        assert set(pred.keys()) - set(other.keys()) == {'decoded_keypoints'}
        for key in other.keys():
            np.testing.assert_array_equal(pred.get(key), other.get(key))


def test_decoded_pose_follows_the_noisy_tokens(synthetic_body_model, synthetic_batch):
    """With test-time logit noise the pose is decoded from the perturbed tokens the head
    saw (replayed here with the same random numbers)."""
    model = _build(synthetic_body_model, logit_noise_std=2.0)
    inputs = _images()
    torch.manual_seed(5)
    preds = _predict(model, inputs, synthetic_batch)
    torch.manual_seed(5)
    with torch.no_grad():
        logits = model.pose_tokenizer.tokenize(inputs)['logits']
        noisy = logits + 2.0 * torch.randn_like(logits)
        expected = model.pose_tokenizer.tokens_from_logits(noisy, decode=True)['keypoints']
        clean = model.pose_tokenizer.tokenize(inputs, decode=True)['keypoints']
    got = np.stack([p.decoded_keypoints[0] for p in preds])
    np.testing.assert_allclose(got, _to_image(expected.numpy()), atol=1e-4)
    assert np.abs(got - _to_image(clean.numpy())).max() > 1e-2


def test_decoded_pose_with_raw_keypoint_tokens(synthetic_body_model, synthetic_batch):
    model = _build(synthetic_body_model, 'raw_keypoints')
    inputs = _images()
    preds = _predict(model, inputs, synthetic_batch)
    with torch.no_grad():
        decoded = model.pose_tokenizer.tokenize(inputs, decode=True)['keypoints'].numpy()
    for i, pred in enumerate(preds):
        np.testing.assert_allclose(pred.decoded_keypoints[0], _to_image(decoded[i]),
                                   atol=1e-4)


@pytest.mark.parametrize('source', ['gt_keypoints', 'none'])
def test_sources_without_a_predicted_pose_refuse_the_option(synthetic_body_model, source):
    head = tiny_head_cfg(synthetic_body_model, with_body_model=False,
                         with_pose_tokens=source != 'none')
    cfg = dict(type='MeshEstimator', backbone=tiny_backbone_cfg(), head=head,
               neck=None if source == 'none' else tiny_neck_cfg(in_channels=12, num_tokens=6),
               pose_tokenizer=TINY_PCT if source != 'none' else None,
               pose_token_source=source, test_cfg=dict(output_decoded_pose=True))
    with pytest.raises(ValueError, match='output_decoded_pose.*pose_token_source'):
        MODELS.build(cfg)
    cfg['test_cfg'] = dict()
    model = MODELS.build(cfg)
    assert not model.can_decode_pose
    with pytest.raises(ValueError, match='decoded 2D pose'):
        model.extract_pose_tokens(_images(1), return_decoded_pose=True)
