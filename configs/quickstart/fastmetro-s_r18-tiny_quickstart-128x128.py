# The quickstart's "without pose tokens" model: postometro-s_r18-tiny_quickstart-128x128.py without
# the PCT branch (FastMETRO-S), as configs/postometro/fastmetro-s_r50_mixed-256x256.py is to
# postometro-s_r50_mixed-256x256.py. Same data, schedule and budget.
_base_ = ['./postometro-s_r18-tiny_quickstart-128x128.py']
model = dict(
    pose_tokenizer=None,
    pose_token_source='none',
    neck=None,
    head=dict(with_pose_tokens=False))
