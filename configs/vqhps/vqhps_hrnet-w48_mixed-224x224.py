# VQ-HPS with HRNet-W48 backbones (the reference's other variant): every stage-4 branch is
# brought to stride 32 by strided convolutions and concatenated (720 x 7 x 7 at 224 px). The
# reference initialises both from the COCO pose HRNet-W48 (its stem and stages; the downsampling
# convolutions start random). Data, schedule and evaluation of vqhps_r50_mixed-224x224.py.
#   mim train postometro_mm vqhps_hrnet-w48_mixed-224x224.py --gpus 4 --launcher pytorch
_base_ = ['./vqhps_r50_mixed-224x224.py']

# User-provided: mmpose's COCO-trained HRNet-W48 (td-hm_hrnet-w48_8xb32-210e_coco-256x192).
hrnet_w48_coco_checkpoint = 'weights/backbones/td-hm_hrnet-w48_8xb32-210e_coco-256x192.pth'

_hrnet_w48 = dict(
    type='HRNetDownsampled',
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
    init_cfg=dict(type='Pretrained', checkpoint=hrnet_w48_coco_checkpoint, prefix='backbone.'))

model = dict(
    backbone=dict(_delete_=True, **_hrnet_w48),
    rotation_backbone=dict(_delete_=True, **_hrnet_w48),
    head=dict(in_channels=720, rot_in_channels=720))
