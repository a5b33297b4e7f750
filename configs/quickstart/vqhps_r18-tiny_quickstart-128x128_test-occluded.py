# Evaluate the quickstart VQ-HPS on the world's heavily occluded test split:
#   python tools/test.py configs/quickstart/vqhps_r18-tiny_quickstart-128x128_test-occluded.py CKPT
_base_ = ['./vqhps_r18-tiny_quickstart-128x128.py']
test_dataloader = dict(
    dataset=dict(_delete_=True, **_base_.world_test_occluded,
                 pipeline=_base_.world_mesh_pipeline))
test_evaluator = dict(prefix='test_occluded')
