# PostoMETRO with an HRNet-W48 image backbone (pose HRNet, COCO-pretrained). The head reads the
# lowest-resolution stage-4 branch (384x8x8 for a 256 crop), so stage 4 returns all branches and
# MeshEstimator takes the last one (backbone_out_index=-1).
_base_ = ['./postometro_r50.py']

# User-provided: mmpose's COCO-trained HRNet-W48 (td-hm_hrnet-w48_8xb32-210e_coco-256x192).
hrnet_w48_coco_checkpoint = 'weights/backbones/td-hm_hrnet-w48_8xb32-210e_coco-256x192.pth'

model = dict(
    backbone=dict(
        _delete_=True,
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ),
                        num_channels=(64, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(4, 4),
                        num_channels=(48, 96)),
            stage3=dict(num_modules=4, num_branches=3, block='BASIC', num_blocks=(4, 4, 4),
                        num_channels=(48, 96, 192)),
            stage4=dict(num_modules=3, num_branches=4, block='BASIC', num_blocks=(4, 4, 4, 4),
                        num_channels=(48, 96, 192, 384), multiscale_output=True)),
        init_cfg=dict(type='Pretrained', checkpoint=hrnet_w48_coco_checkpoint,
                      prefix='backbone.')),
    backbone_out_index=-1,
    head=dict(in_channels=384))
