# Mesh-VQ-VAE `medium` (VQ-HPS's mesh tokenizer: 54 tokens of a 512-code codebook) trained on
# body-model meshes of motion sequences (AMASS / BEDLAM), tested on 3DPW-TEST:
#   mim train postometro_mm configs/mesh_vqvae/mesh-vqvae-medium_body-model-sequences.py
#   mim test postometro_mm configs/mesh_vqvae/mesh-vqvae-medium_body-model-sequences.py \
#       --checkpoint work_dirs/mesh-vqvae-medium_body-model-sequences/best_3dpw_V2V_iter_*.pth
# Data, recipe and schedule: configs/mesh_vqvae/_base_/mesh-vqvae_body-model-sequences.py.
_base_ = [
    '../_base_/models/mesh_vqvae_medium.py',
    './_base_/mesh-vqvae_body-model-sequences.py',
]
