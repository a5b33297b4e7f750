# The pose HRNet-W48 (mmpose's td-hm_hrnet-w48 COCO model) as the image backbone of PostoMETRO /
# FastMETRO and of VQ-HPS: its stage layout and the user-provided COCO checkpoint. Stage 4
# returns all branches (the models read the lowest-resolution one, or all of them).

# User-provided: mmpose's COCO-trained HRNet-W48 (td-hm_hrnet-w48_8xb32-210e_coco-256x192).
hrnet_w48_coco_checkpoint = 'weights/backbones/td-hm_hrnet-w48_8xb32-210e_coco-256x192.pth'

hrnet_w48_stages = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ),
                num_channels=(64, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(4, 4),
                num_channels=(48, 96)),
    stage3=dict(num_modules=4, num_branches=3, block='BASIC', num_blocks=(4, 4, 4),
                num_channels=(48, 96, 192)),
    stage4=dict(num_modules=3, num_branches=4, block='BASIC', num_blocks=(4, 4, 4, 4),
                num_channels=(48, 96, 192, 384), multiscale_output=True))
