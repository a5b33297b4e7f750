# PostoMETRO with an HRNet-W48 image backbone (pose HRNet, COCO-pretrained). The head reads the
# lowest-resolution stage-4 branch (384x8x8 for a 256 crop), so stage 4 returns all branches and
# MeshEstimator takes the last one (backbone_out_index=-1).
_base_ = ['./postometro_r50.py', './hrnet_w48.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='HRNet',
        in_channels=3,
        extra=_base_.hrnet_w48_stages,
        init_cfg=dict(type='Pretrained', checkpoint=_base_.hrnet_w48_coco_checkpoint,
                      prefix='backbone.')),
    backbone_out_index=-1,
    head=dict(in_channels=384))
