import torch

from postometro_mm.models.heads import PCTTokenizer, sample_features_at_keypoints
from postometro_mm.models.heads.pct_head import visible_smooth_l1

TINY_TOKENIZER = dict(num_tokens=34, num_codes=64, code_dims=32, enc_hidden_dims=32,
                      enc_hidden_inter_dims=32, enc_token_inter_dims=32, enc_num_blocks=2,
                      dec_hidden_dims=32, dec_hidden_inter_dims=64, dec_token_inter_dims=32,
                      dec_num_blocks=1)


def test_sample_features_at_keypoints_nearest_cell():
    torch.manual_seed(0)
    fmap = torch.randn(2, 5, 4, 4)  # 128 px input, stride 32
    kpts = torch.tensor([[[0., 0.], [47., 17.], [49., 17.], [127., 127.]],
                         [[-40., 300.], [16., 15.9], [100., 60.], [63.9, 64.]]])
    feats = sample_features_at_keypoints(fmap, kpts, (128, 128))
    for b in range(2):
        for k in range(4):
            x, y = kpts[b, k].tolist()
            col = min(max(int(torch.floor(torch.tensor(x / 32 + 0.5))), 0), 3)
            row = min(max(int(torch.floor(torch.tensor(y / 32 + 0.5))), 0), 3)
            assert torch.equal(feats[b, k], fmap[b, :, row, col])


def test_invisible_joints_are_replaced_and_training_masks_more():
    torch.manual_seed(0)
    tok = PCTTokenizer(**TINY_TOKENIZER).eval()
    tok.init_weights()
    kpts = torch.rand(3, 17, 2) * 256
    vis = torch.ones(3, 17)
    vis[:, 4] = 0
    moved = kpts.clone()
    moved[:, 4] += 50  # an invisible joint's coordinates must not matter
    torch.testing.assert_close(tok.encode(kpts, vis), tok.encode(moved, vis))
    moved[:, 5] += 50
    assert not torch.allclose(tok.encode(kpts, vis), tok.encode(moved, vis))
    # training with drop_rate=1 masks every joint: the pose no longer matters
    tok.drop_rate = 1.0
    tok.train()
    torch.testing.assert_close(tok.encode(kpts, vis), tok.encode(moved, vis))


def test_tokenize_returns_codebook_rows_without_updating():
    torch.manual_seed(0)
    tok = PCTTokenizer(**TINY_TOKENIZER).train()
    before = tok.quantizer.codebook.clone()
    codes, indices = tok.tokenize(torch.rand(2, 17, 2) * 256, torch.ones(2, 17))
    assert codes.shape == (2, 34, 32) and indices.shape == (2, 34)
    assert torch.equal(codes, before[indices])
    assert torch.equal(tok.quantizer.codebook, before)


def test_stage1_learns_synthetic_poses(coco_poses):
    """A tiny tokenizer trained for 400 steps reconstructs held-out poses far better than the
    mean pose does (codebook EMA + straight-through + masking all active)."""
    torch.manual_seed(0)
    size = 64
    train_kpts, train_vis = map(torch.from_numpy, coco_poses(3000, size=size, seed=0))
    test_kpts, test_vis = map(torch.from_numpy, coco_poses(500, size=size, seed=1))
    tok = PCTTokenizer(input_size=(size, size), **TINY_TOKENIZER)
    tok.init_weights()
    steps = 400
    optim = torch.optim.AdamW(tok.parameters(), lr=1e-2, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(optim, max_lr=1e-2, total_steps=steps,
                                                pct_start=0.1)
    tok.train()
    for _ in range(steps):
        idx = torch.randint(0, len(train_kpts), (64, ))
        out = tok(train_kpts[idx], train_vis[idx])
        loss = visible_smooth_l1(out['keypoints'], train_kpts[idx], train_vis[idx], 0.05) \
            + 15 * out['latent_loss']
        optim.zero_grad()
        loss.backward()
        optim.step()
        sched.step()

    tok.eval()
    with torch.no_grad():
        out = tok(test_kpts, test_vis)
    visible = test_vis > 0
    recon_err = (out['keypoints'] - test_kpts).norm(dim=-1)[visible].mean()
    mean_pose_err = (train_kpts.mean(0) - test_kpts).norm(dim=-1)[visible].mean()
    assert recon_err < 0.5 * mean_pose_err, (recon_err, mean_pose_err)
    assert out['indices'].unique().numel() > 8  # the codebook did not collapse
