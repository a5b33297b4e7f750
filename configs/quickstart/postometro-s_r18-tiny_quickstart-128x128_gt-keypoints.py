# The quickstart's oracle: postometro-s_r18-tiny_quickstart-128x128.py with the ground-truth
# COCO-17 keypoints of each crop as its pose tokens instead of the PCT's (paper Table 11's raw
# 2D coordinates as the token source: 17 tokens of (x, y) normalised to [-1, 1] over the crop,
# the visibility as score), in training and at test time. It shows how well the mesh model
# learns the 2D -> 3D lifting from perfect 2D poses at the quickstart's budget; the report
# compares it with the lifting baseline (ridge regression from the same keypoints,
# postometro_mm/quickstart/baseline.py). Same data, schedule and budget as the other two.
_base_ = ['./postometro-s_r18-tiny_quickstart-128x128.py']
model = dict(
    pose_tokenizer=None,
    pose_token_source='raw_keypoints',
    neck=dict(in_channels=2, num_tokens=17))
