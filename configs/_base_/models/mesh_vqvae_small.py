# Mesh-VQ-VAE `small` (the reference's lighter configuration): 8 mesh-convolution layers
# 6890 -> 1925 -> 400 vertices and back, every layer a convolution with 17 shared kernels
# (the strided ones pool or unpool on their own; no neighbour-average layers), a 400 x 9 latent
# quantised by a 128-code EMA codebook (decay 0.99, commitment 0.25).
#
# Connection files: as for `mesh_vqvae_medium.py` (data/body_models/ConnectionMatrices/).
connection_dir = 'data/body_models/ConnectionMatrices'

model = dict(
    type='MeshVQVAE',
    connection_dir=connection_dir,
    num_vertices=6890,
    num_bases=17,
    num_codes=128,
    decay=0.99,
    commitment_cost=0.25,
    layers=[
        dict(connection='_pool0', in_channels=3, out_channels=32),
        dict(connection='_pool1', in_channels=32, out_channels=64),  # 6890 -> 1925
        dict(connection='_pool2', in_channels=64, out_channels=128),
        dict(connection='_pool3', in_channels=128, out_channels=9),  # latent: 400 x 9
        dict(connection='_unpool3', in_channels=9, out_channels=128),  # 400 -> 1925
        dict(connection='_unpool2', in_channels=128, out_channels=64),
        dict(connection='_unpool1', in_channels=64, out_channels=32),  # 1925 -> 6890
        dict(connection='_unpool0', in_channels=32, out_channels=3),  # no ELU (last layer)
    ])
