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
