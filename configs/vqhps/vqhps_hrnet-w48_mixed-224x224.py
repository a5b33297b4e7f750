# VQ-HPS with HRNet-W48 backbones (the reference's other variant): every stage-4 branch is
# brought to stride 32 by strided convolutions and concatenated (720 x 7 x 7 at 224 px). The
# reference initialises both from the COCO pose HRNet-W48 (its stem and stages; the downsampling
# convolutions start random). Data, schedule and evaluation of vqhps_r50_mixed-224x224.py.
#   mim train postometro_mm vqhps_hrnet-w48_mixed-224x224.py --gpus 4 --launcher pytorch
_base_ = ['./vqhps_r50_mixed-224x224.py', '../_base_/models/hrnet_w48.py']

_hrnet_w48 = dict(
    type='HRNetDownsampled',
    in_channels=3,
    extra=_base_.hrnet_w48_stages,
    init_cfg=dict(type='Pretrained', checkpoint=_base_.hrnet_w48_coco_checkpoint,
                  prefix='backbone.'))

model = dict(
    backbone=dict(_delete_=True, **_hrnet_w48),
    rotation_backbone=dict(_delete_=True, **_hrnet_w48),
    head=dict(in_channels=720, rot_in_channels=720))
