# The paper's "w/o pose tokens" baseline: the same model without the PCT branch, i.e. FastMETRO-S
# with a ResNet-50. Paper (fine-tuned on 3DPW): 82.5 / 72.4 / 44.4 mm (MPVPE / MPJPE / PA-MPJPE).
_base_ = ['./postometro-s_r50_mixed-256x256.py']
model = dict(
    pose_tokenizer=None,
    pose_token_source='none',
    neck=None,
    head=dict(with_pose_tokens=False))
