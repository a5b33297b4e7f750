# Mesh-VQ-VAE `medium` (the VQ-HPS mesh tokenizer; VQ-HPS, ECCV 2024): 14 mesh-convolution
# layers 6890 -> 1925 -> 400 -> 54 vertices and back, a 54 x 9 latent quantised by a 512-code
# EMA codebook (decay 0.99, commitment 0.25). Convolutions have 9 shared kernels
# (residual_rate 0); (un)pooling layers only learn neighbour-average weights (residual_rate 1).
#
# Connection files: the MeshConvolution release's `dfaust2` folder (MIT; 16 files _pool0-7.npy,
# _unpool0-7.npy), expected in
#   data/body_models/ConnectionMatrices/
# (override with --cfg-options model.connection_dir=DIR).
connection_dir = 'data/body_models/ConnectionMatrices'

model = dict(
    type='MeshVQVAE',
    connection_dir=connection_dir,
    num_vertices=6890,
    num_bases=9,
    num_codes=512,
    decay=0.99,
    commitment_cost=0.25,
    layers=[
        dict(connection='_pool0', in_channels=3, out_channels=32),
        dict(connection='_pool1', in_channels=32, out_channels=32, residual_rate=1.0),
        dict(connection='_pool2', in_channels=32, out_channels=64),
        dict(connection='_pool3', in_channels=64, out_channels=64, residual_rate=1.0),
        dict(connection='_pool4', in_channels=64, out_channels=128),
        dict(connection='_pool5', in_channels=128, out_channels=128, residual_rate=1.0),
        dict(connection='_pool6', in_channels=128, out_channels=9),  # latent: 54 x 9
        dict(connection='_unpool6', in_channels=9, out_channels=128),
        dict(connection='_unpool5', in_channels=128, out_channels=128, residual_rate=1.0),
        dict(connection='_unpool4', in_channels=128, out_channels=64),
        dict(connection='_unpool3', in_channels=64, out_channels=64, residual_rate=1.0),
        dict(connection='_unpool2', in_channels=64, out_channels=32),
        dict(connection='_unpool1', in_channels=32, out_channels=32, residual_rate=1.0),
        dict(connection='_unpool0', in_channels=32, out_channels=3),  # no ELU (last layer)
    ])
