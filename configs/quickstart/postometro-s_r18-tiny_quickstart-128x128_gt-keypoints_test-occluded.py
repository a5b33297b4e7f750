# Evaluate the quickstart's oracle (ground-truth keypoint tokens) on the world's heavily
# occluded test split (occluded keypoints keep their true positions, with visibility 0):
#   python tools/test.py \
#       configs/quickstart/postometro-s_r18-tiny_quickstart-128x128_gt-keypoints_test-occluded.py CKPT
_base_ = ['./postometro-s_r18-tiny_quickstart-128x128_gt-keypoints.py']
test_dataloader = dict(
    dataset=dict(_delete_=True, **_base_.world_test_occluded,
                 pipeline=_base_.world_mesh_pipeline))
test_evaluator = dict(prefix='test_occluded')
