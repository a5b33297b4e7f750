# The quickstart's image backbone, shared by every quickstart model that reads the image (so
# they all load the one heatmap-pretrained checkpoint of td-hm_r18-tiny_quickstart-128x128.py):
# mmpose's ResNet-18 at 1/4 width, with its last stage at stride 1, so a 128x128 crop gives
# 128 x 8 x 8 features (output stride 16) instead of 128 x 4 x 4.
#
# Why stride 16: the paper's crops (224 / 256 px) give a ResNet-50 a 7x7 / 8x8 map, and the
# transformers read one image token per cell. At 128 px and stride 32 the map is 4x4 (each
# cell a 32 px block, a third of a person), and from it the heatmap pretraining learns the 2D
# pose about ten times slower (measured on the full-mode world, 2000 training images, both
# without mirror augmentation, see quickstart_world.py: after 400 iterations PCK@0.05 of the
# visible test joints 54 % at stride 32, 89 % at stride 16, which stride 32 reached after about
# 3200 iterations). One iteration costs 12 % more.
#
# Used as ``dict(type='ResNet', **quickstart_resnet, ...)`` (the configs add ``out_indices`` /
# ``init_cfg`` / freezing as their models need).
quickstart_resnet = dict(depth=18, base_channels=16, stem_channels=16, strides=(1, 2, 2, 1))
# Channels of its output map (8 x base_channels).
quickstart_resnet_channels = 128

# The mesh models (PostoMETRO-S, the model without pose tokens, the oracle, VQ-HPS) start from
# the heatmap pretraining and fine-tune only the ResNet's last stage; the stem and stages 1-3
# stay frozen and every BatchNorm keeps the pretraining's statistics (norm_eval). Measured on
# the full-mode world (model without pose tokens, seed 0, one thread, PA-MPJPE on test /
# test_occluded in mm, training seconds):
#
# | backbone during mesh training         | 1000 iterations     | 2400 iterations          |
# |---------------------------------------|---------------------|--------------------------|
# | all trainable (until 2026-12-07)      | 85.0 / 93.5, 145 s  | 69.0 / 81.8, ~340 s      |
# | stages 1-3 frozen, norm_eval (this)   | 79.1 / 90.4, 104 s  | 66.5 / 82.2, 238 s       |
# | all frozen, norm_eval                 | 82.0 / 94.5, 92 s   |                          |
#
# PostoMETRO-S, 2400 iterations: 70.5 / 84.7 -> 70.2 / 83.7 in 332 s instead of ~460 s.
# While the transformers still output the mean mesh, the gradient reaching the backbone says
# little about the image, and AdamW moves every weight at the full learning rate whatever the
# gradient's size: a trainable backbone drifts from its pretraining during that phase (at a
# learning rate of 2e-3, 1000 iterations: the trainable model stayed at the mean mesh, 202 mm;
# the frozen one 87.1). Frozen, the backward pass also stops at stage 4 (a third less time per
# iteration). Before the 2D pretraining learned the pose (a 4x4 map, PCK@0.05 52 %), freezing
# hurt (the postometro-s quickstart config's last table).
quickstart_mesh_backbone = dict(**quickstart_resnet, frozen_stages=3, norm_eval=True)
