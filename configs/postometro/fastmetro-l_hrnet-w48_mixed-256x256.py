# "w/o pose tokens" baseline with HRNet-W48 (FastMETRO-L-H48). Paper: 78.6 / 68.9 / 41.5 mm.
_base_ = ['./postometro-l_hrnet-w48_mixed-256x256.py']
model = dict(
    pose_tokenizer=None,
    pose_token_source='none',
    neck=None,
    head=dict(with_pose_tokens=False))
