"""PostoMETROHead: token layout, attention mask, outputs, losses and the prediction contract."""
from copy import deepcopy

import numpy as np
import pytest
import torch

from mmpose.registry import MODELS
from postometro_mm.body_models.joint_regressors import regress_joints
from postometro_mm.models.heads import project_weak_perspective
from postometro_test_utils import tiny_head_cfg


@pytest.fixture(scope='module')
def real_topology_head_cfg(reference_data_dir):
    topo = reference_data_dir / 'smpl_topology'

    def build(**kwargs):
        cfg = dict(type='PostoMETROHead', in_channels=16,
                   mesh_sampler=dict(type='MeshSampler',
                                     filename=str(topo / 'mesh_downsampling.npz'),
                                     allow_pickle=True),
                   joint_regressor=str(topo / 'J_regressor_h36m_correct.npy'),
                   embed_dims=(32, 16), feedforward_channels=(32, 16), num_heads=8)
        cfg.update(kwargs)
        return MODELS.build(cfg).eval()

    return build


def _token_counts(head, pose_tokens):
    counts = {}

    def hook(name, index):
        def fn(module, args):
            counts[name] = args[index].shape[1]
        return fn

    handles = [head.transformer_1.encoder.register_forward_pre_hook(hook('enc1', 0)),
               head.transformer_2.encoder.register_forward_pre_hook(hook('enc2', 0)),
               head.transformer_2.decoder.register_forward_pre_hook(hook('memory2', 1)),
               head.transformer_2.decoder.register_forward_pre_hook(hook('queries2', 0))]
    with torch.no_grad():
        head(torch.randn(1, 16, 8, 8), pose_tokens)
    for handle in handles:
        handle.remove()
    return counts


@pytest.mark.parametrize('duplicate, enc2, memory2', [(True, 133, 132), (False, 99, 98)])
def test_stage2_token_layout_real_sizes(real_topology_head_cfg, duplicate, enc2, memory2):
    head = real_topology_head_cfg(duplicate_pose_tokens=duplicate)
    counts = _token_counts(head, torch.randn(1, 34, 32))
    assert counts == dict(enc1=1 + 64 + 34, enc2=enc2, memory2=memory2, queries2=14 + 431)


def test_fastmetro_layout_has_no_pose_reduction(real_topology_head_cfg):
    head = real_topology_head_cfg(with_pose_tokens=False)
    assert not hasattr(head, 'dim_reduce_enc_pct')
    assert _token_counts(head, None) == dict(enc1=65, enc2=65, memory2=64, queries2=445)
    with pytest.raises(ValueError, match='with_pose_tokens=False'):
        head(torch.randn(1, 16, 8, 8), torch.randn(1, 34, 32))


def test_attention_mask_real_topology(real_topology_head_cfg):
    mask = real_topology_head_cfg().attention_mask
    assert mask.shape == (445, 445) and mask.dtype == torch.bool
    assert int(mask.sum()) == 182756
    assert not mask[:14].any() and not mask[:, :14].any()


def test_mid_faces_from_fastmetro_file(real_topology_head_cfg, reference_data_dir, tmp_path):
    """The normal loss can use FastMETRO's 3451 middle-mesh faces; the sampler's 3442 are a
    subset of them; a file with out-of-range indices is refused."""
    faces_file = reference_data_dir / 'smpl_topology' / 'smpl_1723_faces.npy'
    default = real_topology_head_cfg().mid_faces.numpy()
    explicit = real_topology_head_cfg(mid_faces=str(faces_file)).mid_faces.numpy()
    assert explicit.shape == (3451, 3) and default.shape == (3442, 3)
    np.testing.assert_array_equal(explicit, np.load(faces_file))
    as_sets = {tuple(sorted(f)) for f in explicit.tolist()}
    assert all(tuple(sorted(f)) in as_sets for f in default.tolist())
    bad = tmp_path / 'bad_faces.npy'
    np.save(bad, np.array([[0, 1, 1723]]))
    with pytest.raises(ValueError, match='1723 vertices'):
        real_topology_head_cfg(mid_faces=str(bad))


def test_state_dict_has_no_sampler_or_body_model(synthetic_body_model):
    head = MODELS.build(tiny_head_cfg(synthetic_body_model))
    keys = head.state_dict().keys()
    assert not [k for k in keys if k.startswith(('mesh_sampler', 'body_model', 'loss_'))]
    assert {'attention_mask', 'h36m_regressor'}.isdisjoint(keys)


def test_forward_shapes_and_predict_contract(synthetic_body_model, synthetic_batch):
    head = MODELS.build(tiny_head_cfg(synthetic_body_model)).eval()
    v_fine, v_mid, v_coarse = head.mesh_sampler.num_vertices
    feats, tokens = torch.randn(2, 64, 2, 2), torch.randn(2, 34, 32)
    out = head((feats, ), tokens)
    assert out['pred_cam'].shape == (2, 3) and out['pred_joints'].shape == (2, 14, 3)
    assert out['pred_vertices_coarse'].shape == (2, v_coarse, 3)
    assert out['pred_vertices_mid'].shape == (2, v_mid, 3)
    assert out['pred_vertices'].shape == (2, v_fine, 3)

    samples = synthetic_batch[:2]
    with torch.no_grad():
        preds = head.predict((feats, ), samples, pose_tokens=tokens)
        out = head(feats, tokens)
    for i, (pred, sample) in enumerate(zip(preds, samples)):
        assert pred.vertices.shape == (1, v_fine, 3) and isinstance(pred.vertices, np.ndarray)
        assert pred.keypoints_3d.shape == (1, 14, 3) and pred.camera.shape == (1, 3)
        assert pred.keypoints.shape == (1, 14, 2) and pred.keypoint_scores.shape == (1, 14)
        pelvis = regress_joints(torch.from_numpy(pred.vertices), head.h36m_regressor)[0, 0]
        assert pelvis.abs().max() < 1e-5
        # independent: normalised [-1, 1] crop → crop px → original image px
        norm = project_weak_perspective(torch.from_numpy(pred.keypoints_3d),
                                        out['pred_cam'][i:i + 1])[0].numpy()
        scale, center = sample.metainfo['input_scale'], sample.metainfo['input_center']
        expected = (norm + 1) / 2 * scale + center - scale / 2
        assert np.allclose(pred.keypoints[0], expected, atol=1e-4)
        assert np.allclose(pred.camera[0], out['pred_cam'][i].numpy(), atol=1e-6)


def test_loss_keys_values_and_empty_supervision(synthetic_body_model, synthetic_batch):
    torch.manual_seed(0)
    head = MODELS.build(tiny_head_cfg(synthetic_body_model))
    feats, tokens = torch.randn(4, 64, 2, 2), torch.randn(4, 34, 32)
    losses = head.loss((feats, ), synthetic_batch, pose_tokens=tokens)
    assert set(losses) == {'loss_vertices', 'loss_joints_3d', 'loss_joints_2d', 'loss_edge',
                           'loss_normal'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())

    unsupervised = []  # copies without any supervision
    for sample in synthetic_batch:
        copy = deepcopy(sample)
        for key in ('has_smpl', 'has_3d', 'has_2d'):
            copy.gt_instance_labels.set_field(torch.zeros(1), key)
        unsupervised.append(copy)
    losses = head.loss((feats, ), unsupervised, pose_tokens=tokens)
    total = sum(losses.values())
    assert total.item() == 0.0
    total.backward()
    assert head.xyz_regressor.weight.grad is not None


def test_loss_without_body_model_raises(synthetic_body_model, synthetic_batch):
    head = MODELS.build(tiny_head_cfg(synthetic_body_model, with_body_model=False))
    with pytest.raises(RuntimeError, match='GenderedSMPL'):
        head.loss(torch.randn(4, 64, 2, 2), synthetic_batch, pose_tokens=torch.randn(4, 34, 32))


def _reference_forward(head, feat, pose_tokens):
    """PostoMETRO-Paper's token bookkeeping, written independently of the head's forward:
    partial position encodings by slicing, pose tokens appended inside the encoder, the memory
    = image + pose outputs, and transformer 2 called with that memory as its "image" input."""

    def encoder(stack, src, pos):
        n = pos.shape[1]
        for layer in stack.layers:
            h = layer.norm1(src)
            qk = torch.cat([h[:, :1], h[:, 1:1 + n] + pos, h[:, 1 + n:]], 1)
            src = src + layer.self_attn(qk, qk, h)[0]
            src = src + layer.linear2(torch.relu(layer.linear1(layer.norm2(src))))
        return stack.norm(src)

    def decoder(stack, tgt, memory, pos, mask):
        n = pos.shape[1]
        key = torch.cat([memory[:, :n] + pos, memory[:, n:]], 1)
        for layer in stack.layers:
            h = layer.norm1(tgt)
            tgt = tgt + layer.self_attn(h, h, h, attn_mask=mask)[0]
            h = layer.norm2(tgt)
            tgt = tgt + layer.multihead_attn(h, key, memory)[0]
            tgt = tgt + layer.linear2(torch.relu(layer.linear1(layer.norm3(tgt))))
        return stack.norm(tgt)

    def transformer(model, img, cam, jv, pos, pct):
        hw = img.shape[1]
        out = encoder(model.encoder, torch.cat([cam, img, pct], 1), pos)
        cam_f, img_f, pct_f = out.split([1, hw, pct.shape[1]], 1)
        memory = torch.cat([img_f, pct_f], 1)
        return cam_f, memory, decoder(model.decoder, jv, memory, pos, head.attention_mask), pct_f

    b, _, h, w = feat.shape
    img = head.conv_1x1(feat).flatten(2).transpose(1, 2)
    cam = head.cam_token_embed.weight[None].expand(b, -1, -1)
    jv = torch.cat([head.joint_token_embed.weight, head.vertex_token_embed.weight])[None]
    jv = jv.expand(b, -1, -1)
    pos1 = head.position_encoding_1(h, w).flatten(1).t()[None]
    pos2 = head.position_encoding_2(h, w).flatten(1).t()[None]
    cam1, mem1, jv1, pct1 = transformer(head.transformer_1, img, cam, jv, pos1, pose_tokens)
    cam2, _, jv2, _ = transformer(head.transformer_2, head.dim_reduce_enc_img(mem1),
                                  head.dim_reduce_enc_cam(cam1), head.dim_reduce_dec(jv1), pos2,
                                  head.dim_reduce_enc_pct(pct1))
    return head.cam_predictor(cam2[:, 0]), head.xyz_regressor(jv2)


def test_duplicate_layout_reproduces_reference_computation(synthetic_body_model):
    torch.manual_seed(0)
    head = MODELS.build(tiny_head_cfg(synthetic_body_model, dropout=0.1)).eval()
    feat, tokens = torch.randn(2, 64, 3, 3), torch.randn(2, 34, 32)
    with torch.no_grad():
        out = head(feat, tokens)
        cam, xyz = _reference_forward(head, feat, tokens)
    assert torch.allclose(out['pred_cam'], cam, atol=1e-5)
    assert torch.allclose(out['pred_joints'], xyz[:, :14], atol=1e-5)
    assert torch.allclose(out['pred_vertices_coarse'], xyz[:, 14:], atol=1e-5)
    head.duplicate_pose_tokens = False
    with torch.no_grad():
        assert not torch.allclose(head(feat, tokens)['pred_cam'], cam, atol=1e-4)
