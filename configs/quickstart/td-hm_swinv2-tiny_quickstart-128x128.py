# Quickstart pretraining of PCT's image backbone: PCT starts both of its stages from a
# heatmap-trained SwinV2 (configs/pct/*: swinv2_heatmap_checkpoint, kept frozen). Here that
# SwinV2, shrunk to configs/quickstart/_base_/quickstart_pct.py, is trained with the same
# SimpleBaseline heatmap recipe as the mesh models' ResNet (td-hm_r18-tiny_quickstart-128x128.py)
# on the synthetic world's COCO-17 keypoints.
_base_ = ['./td-hm_r18-tiny_quickstart-128x128.py', './_base_/quickstart_pct.py']

model = dict(
    backbone=dict(_delete_=True, type='PCTSwinV2', **_base_.pct_tiny_backbone,
                  out_indices=(3, ), frozen_stages=-1),
    head=dict(in_channels=_base_.pct_tiny_head.in_channels))
