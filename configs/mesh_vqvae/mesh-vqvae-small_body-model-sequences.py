# Mesh-VQ-VAE `small` (400 tokens of a 128-code codebook): the data, recipe and schedule of
# mesh-vqvae-medium_body-model-sequences.py.
_base_ = [
    '../_base_/models/mesh_vqvae_small.py',
    './_base_/mesh-vqvae_body-model-sequences.py',
]
