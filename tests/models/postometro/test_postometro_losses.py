"""Mesh losses: zero on identical inputs, hand values on known offsets, empty-batch handling."""
import torch

from postometro_mm.models.losses import (Joint2DL1Loss, Joint3DL1Loss, MeshEdgeLengthLoss,
                                         MeshNormalLoss, MeshVertexL1Loss)

TRIANGLE = torch.tensor([[0, 1, 2]])
EDGES = torch.tensor([[0, 1], [1, 2], [0, 2]])


def _mesh(batch=2):
    verts = torch.tensor([[0., 0., 0.], [1., 0., 0.], [0., 1., 0.]])
    return verts.expand(batch, -1, -1).clone()


def test_vertex_loss_zero_and_offset():
    loss = MeshVertexL1Loss(level_weights=(0.25, 0.5, 0.25), loss_weight=10.0)
    levels = [torch.randn(3, n, 3) for n in (4, 8, 16)]
    valid = torch.tensor([1., 0., 1.])
    assert loss(levels, levels, valid).item() == 0.0
    shifted = [lv.clone() for lv in levels]
    shifted[1][valid > 0] += 0.2   # middle level of the valid samples off by 0.2 on every axis
    shifted[1][1] += 5.0           # an invalid sample must not count
    assert torch.isclose(loss(shifted, levels, valid), torch.tensor(10.0 * 0.5 * 0.2))


def test_joint3d_loss_is_root_relative_and_confidence_weighted():
    loss = Joint3DL1Loss(loss_weight=1000.0)
    gt = torch.randn(2, 14, 3)
    target = torch.cat([gt, torch.ones(2, 14, 1)], -1)
    valid = torch.ones(2)
    # a global translation is removed by the mid-hip centring
    assert loss(gt + torch.tensor([1., 2., 3.]), target, valid).item() < 1e-3
    pred = gt.clone()
    pred[:, 0, 0] += 0.14          # joint 0 (not a hip) off by 14 cm on x
    expected = 1000.0 * 0.14 / (14 * 3)
    assert torch.isclose(loss(pred, target, valid), torch.tensor(expected), rtol=1e-4)
    target[:, 0, 3] = 0            # zero confidence on that joint
    assert loss(pred, target, valid).item() < 1e-3


def test_joint2d_loss_hand_value_with_visibility():
    loss = Joint2DL1Loss(loss_weight=100.0)
    gt = torch.rand(2, 14, 2)
    target = torch.cat([gt, torch.ones(2, 14, 1)], -1)
    target[1, :, 2] = 0            # sample 1 invisible
    pred = gt + 0.1
    expected = 100.0 * 0.1 * (14 * 2) / (2 * 14 * 2)   # averaged over the whole batch
    assert torch.isclose(loss(pred, target, torch.ones(2)), torch.tensor(expected), rtol=1e-5)
    assert loss(pred, target, torch.zeros(2)).item() == 0.0


def test_edge_loss_hand_value():
    loss = MeshEdgeLengthLoss(gt_weight=5.0, self_weight=1e-4, loss_weight=100.0)
    gt = _mesh()
    valid = torch.ones(2)
    self_term = 1e-4 * (1 + 1 + 2 ** 0.5) / 3
    assert torch.isclose(loss(gt, gt, EDGES, valid), torch.tensor(100.0 * self_term), rtol=1e-4)
    pred = gt * 2.0                # every edge twice as long
    mean_len = (1 + 1 + 2 ** 0.5) / 3
    expected = 100.0 * (5.0 * mean_len + 1e-4 * 2 * mean_len)
    assert torch.isclose(loss(pred, gt, EDGES, valid), torch.tensor(expected), rtol=1e-4)


def test_normal_loss_zero_in_plane_and_one_for_tilted_edge():
    loss = MeshNormalLoss(loss_weight=1.0)
    gt = _mesh()
    valid = torch.ones(2)
    assert loss(gt * 3.0, gt, TRIANGLE, valid).item() < 1e-6     # scaling keeps the plane
    pred = gt.clone()
    pred[:, 2] = torch.tensor([0., 0., 1.])                       # edge 0→2 along the gt normal
    # cosines with n=(0,0,1): e01 → 0, e02 → 1, e12 = (-1,0,1)/√2 → 1/√2
    expected = (0 + 1 + 2 ** -0.5) / 3
    assert torch.isclose(loss(pred, gt, TRIANGLE, valid), torch.tensor(expected), rtol=1e-4)


def test_losses_without_valid_samples_are_zero_with_grad():
    pred = torch.randn(2, 3, 3, requires_grad=True)
    gt, none = torch.randn(2, 3, 3), torch.zeros(2)
    target4 = torch.cat([gt, torch.ones(2, 3, 1)], -1)
    values = [
        MeshVertexL1Loss(level_weights=(1.0, ))([pred], [gt], none),
        Joint3DL1Loss(root_indices=(0, 1))(pred, target4, none),
        Joint2DL1Loss()(pred[..., :2], target4[..., 1:], none),
        MeshEdgeLengthLoss()(pred, gt, EDGES, none),
        MeshNormalLoss()(pred, gt, TRIANGLE, none),
    ]
    for value in values:
        assert value.item() == 0.0
        value.backward()
        assert pred.grad is not None and torch.all(pred.grad == 0)
