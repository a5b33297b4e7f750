import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmpose.structures import PoseDataSample
from mmpose.structures.bbox import get_warp_matrix
from postometro_mm.models.heads.pct_head import flip_keypoints_horizontally

COCO_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


@pytest.fixture
def tiny_classifier(tmp_path, tiny_pct_config, build_pct):
    torch.manual_seed(0)
    model = build_pct(tiny_pct_config(tmp_path, stage='classifier', guide_ratio=0.5))
    model.init_weights()
    return model


def _count_calls(module: torch.nn.Module) -> list:
    calls = []
    module.register_forward_hook(lambda *_: calls.append(1))
    return calls


def test_tokenize_shapes_backbone_once_decoder_on_request(tiny_classifier):
    model = tiny_classifier.eval()
    backbone_calls = _count_calls(model.backbone)
    decoder_calls = _count_calls(model.head.tokenizer.decoder_start)
    inputs = torch.randn(2, 3, 128, 128)

    out = model.tokenize(inputs)
    assert backbone_calls == [1] and decoder_calls == []
    assert set(out) == {'pose_feats', 'pose_scores', 'logits'}
    assert out['logits'].shape == (2, 8, 32)
    assert out['pose_feats'].shape == (2, 8, 16) and out['pose_scores'].shape == (2, 8, 1)
    codebook = model.head.tokenizer.quantizer.codebook
    torch.testing.assert_close(out['pose_feats'], out['logits'].softmax(-1) @ codebook)
    torch.testing.assert_close(out['pose_scores'], out['logits'].max(-1, keepdim=True)[0])
    assert not out['pose_feats'].requires_grad

    out = model.tokenize(inputs, decode=True)
    assert len(backbone_calls) == 2 and decoder_calls == [1]
    assert out['keypoints'].shape == (2, 17, 2)
    torch.testing.assert_close(out['keypoints'], model.head.tokenizer.decode(out['pose_feats']))


def test_tokens_from_logits_of_given_logits(tiny_classifier):
    model = tiny_classifier.eval()
    codebook = model.head.tokenizer.quantizer.codebook
    logits = torch.randn(3, 8, 32) * 4
    out = model.tokens_from_logits(logits)
    assert set(out) == {'pose_feats', 'pose_scores'}
    # Independent computation: per-token expectation of the codebook under the softmax.
    probs = np.exp(logits.numpy() - logits.numpy().max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    expected = np.einsum('bnv,vd->bnd', probs, codebook.numpy())
    np.testing.assert_allclose(out['pose_feats'].numpy(), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out['pose_scores'][..., 0].numpy(), logits.numpy().max(-1))

    decoded = model.tokens_from_logits(logits, decode=True)['keypoints']
    torch.testing.assert_close(decoded, model.head.tokenizer.decode(out['pose_feats']))

    # tokenize() is tokens_from_logits() of the classifier's logits.
    inputs = torch.randn(2, 3, 128, 128)
    tokens = model.tokenize(inputs)
    again = model.tokens_from_logits(tokens['logits'])
    torch.testing.assert_close(again['pose_feats'], tokens['pose_feats'])
    torch.testing.assert_close(again['pose_scores'], tokens['pose_scores'])

    with pytest.raises(ValueError, match='V = 32'):
        model.tokens_from_logits(torch.randn(2, 8, 31))


def test_frozen_model_has_no_grads_and_stays_in_eval(tmp_path, tiny_pct_config, build_pct):
    cfg = tiny_pct_config(tmp_path, stage='classifier', guide_ratio=0.5,
                          extra='model.update(frozen=True)\n')
    model = build_pct(cfg)
    assert model.frozen
    model.train()
    assert not model.training
    assert not any(m.training for m in model.modules())
    assert not any(p.requires_grad for p in model.parameters())
    out = model.tokenize(torch.randn(1, 3, 128, 128), decode=True)
    assert not any(v.requires_grad for v in out.values())


def test_stage2_head_freezes_tokenizer_only(tiny_classifier):
    model = tiny_classifier.train()
    assert model.head.classifier.training and not model.head.tokenizer.training
    assert not any(p.requires_grad for p in model.head.tokenizer.parameters())
    assert not any(p.requires_grad for p in model.backbone.parameters())  # frozen_stages=4
    assert all(p.requires_grad for p in model.head.classifier.parameters())


def test_encode_keypoints_gives_codebook_rows(tiny_classifier):
    model = tiny_classifier.eval()
    kpts, vis = torch.rand(2, 17, 2) * 128, torch.ones(2, 17)
    with pytest.raises(ValueError, match='image-guided'):
        model.encode_keypoints(kpts, vis)
    backbone_calls = _count_calls(model.backbone)
    out = model.encode_keypoints(kpts, vis, torch.randn(2, 3, 128, 128))
    assert backbone_calls == [1]
    assert out['indices'].shape == (2, 8) and out['indices'].dtype == torch.int64
    assert torch.equal(out['pose_feats'], model.head.tokenizer.quantizer.codebook[out['indices']])


def test_unguided_stage1_runs_without_backbone(tmp_path, tiny_pct_config, build_pct):
    cfg = tiny_pct_config(tmp_path, stage='tokenizer', guide_ratio=0.0,
                          extra='model.update(backbone=None)\n')
    model = build_pct(cfg)
    assert model.backbone is None
    assert not any(k.startswith('backbone.') for k in model.state_dict())
    out = model.encode_keypoints(torch.rand(1, 17, 2) * 128, torch.ones(1, 17))
    assert out['pose_feats'].shape == (1, 8, 16)
    with pytest.raises(ValueError, match='backbone=None'):
        build_pct(tiny_pct_config(tmp_path, stage='tokenizer', guide_ratio=0.5,
                                  extra='model.update(backbone=None)\n'))


def _sample(original_kpts: np.ndarray, center, scale, input_size=(128, 128)) -> PoseDataSample:
    """A data sample as TopdownAffine + PackPoseInputs(pack_transformed=True) would make it."""
    warp = get_warp_matrix(np.asarray(center, np.float32), np.asarray(scale, np.float32), 0.0,
                           output_size=input_size)
    crop = original_kpts @ warp[:, :2].T + warp[:, 2]
    sample = PoseDataSample(metainfo=dict(input_size=input_size, input_center=np.asarray(center),
                                          input_scale=np.asarray(scale),
                                          flip_indices=COCO_FLIP))
    sample.gt_instances = InstanceData(
        transformed_keypoints=crop[None].astype(np.float32),
        keypoints_visible=np.ones((1, 17), np.float32),
        bboxes=np.array([[0., 0., 10., 10.]]), bbox_scores=np.ones(1))
    return sample


def test_predict_maps_crop_pixels_back_to_the_image(tiny_classifier, monkeypatch):
    head = tiny_classifier.head
    rng = np.random.default_rng(0)
    originals = [rng.uniform(100, 400, (17, 2)), rng.uniform(0, 60, (17, 2))]
    samples = [_sample(originals[0], (250., 240.), (300., 300.)),
               _sample(originals[1], (30., 35.), (80., 80.))]

    def crop_truth(feats, batch_data_samples, flip):
        kpts = torch.from_numpy(np.stack([s.gt_instances.transformed_keypoints[0]
                                          for s in batch_data_samples]))
        if flip:  # what a model would predict on the mirrored image
            kpts = flip_keypoints_horizontally(kpts, COCO_FLIP, 128)
        return kpts, torch.arange(17.).expand(len(batch_data_samples), 17)

    monkeypatch.setattr(head, '_predict_crop', crop_truth)
    for flip_test in (False, True):
        preds = head.predict([None, None] if flip_test else None, samples,
                             test_cfg=dict(flip_test=flip_test))
        for pred, original in zip(preds, originals):
            assert pred.keypoints.shape == (1, 17, 2) and pred.keypoint_scores.shape == (1, 17)
            np.testing.assert_allclose(pred.keypoints[0], original, atol=1e-3)
            expected_scores = np.arange(17.)
            if flip_test:
                expected_scores = (expected_scores + expected_scores[COCO_FLIP]) / 2
            np.testing.assert_allclose(pred.keypoint_scores[0], expected_scores)


def test_head_losses_match_formulas(tiny_classifier):
    model = tiny_classifier.train()
    samples = [_sample(np.random.default_rng(i).uniform(0, 128, (17, 2)), (64., 64.),
                       (128., 128.)) for i in range(3)]
    samples[0].gt_instances.keypoints_visible[0, :5] = 0
    inputs = torch.randn(3, 3, 128, 128)
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_token', 'loss_kpt', 'acc_token'}

    model.eval()
    feats = model.extract_feat(inputs)
    kpts = torch.from_numpy(np.stack([s.gt_instances.transformed_keypoints[0] for s in samples]))
    vis = torch.from_numpy(np.stack([s.gt_instances.keypoints_visible[0] for s in samples]))
    logits = model.head.classifier(feats)
    _, target = model.head.tokenizer.tokenize(kpts, vis, feats[-1])
    ce = -logits.log_softmax(-1).gather(-1, target[..., None]).mean()
    decoded = model.head.tokenizer.decode(logits.softmax(-1)
                                          @ model.head.tokenizer.quantizer.codebook)
    diff = (decoded - kpts).abs()
    smooth = torch.where(diff < 0.05, 0.5 * diff**2 / 0.05, diff - 0.025)
    kpt_loss = (smooth * vis[..., None]).sum() / (3 * 17 * 2)
    # the classifier has no dropout, BatchNorm differs between train/eval: compare in eval mode
    losses = model.head.loss(feats, samples)
    torch.testing.assert_close(losses['loss_token'], ce)
    torch.testing.assert_close(losses['loss_kpt'], kpt_loss)
    assert losses['acc_token'] == (logits.argmax(-1) == target).float().mean()
