"""Mesh-VQ-VAE (Fiche et al., VQ-HPS, ECCV 2024): a fully convolutional mesh autoencoder on
mesh convolutions whose latent tokens are vector-quantised, so that a body mesh becomes a short
sequence of discrete tokens (54 tokens of 9 dims in the ``medium`` configuration)."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from torch import Tensor, nn

from mmpose.registry import MODELS
from ..layers.mesh_convolution import MeshConv
from ..layers.vector_quantizer import EMAVectorQuantizer


def center_on_vertex_mean(vertices: Tensor) -> Tensor:
    """(B, V, 3) vertices minus their per-mesh vertex mean (the canonical input)."""
    return vertices - vertices.mean(dim=1, keepdim=True)


def vertex_to_vertex_error(pred: Tensor, target: Tensor) -> Tensor:
    """Mean per-vertex L2 distance (input units) between ``pred`` re-centred on its vertex mean
    and ``target`` (already centred): the reconstruction loss and the V2V metric."""
    return (center_on_vertex_mean(pred) - target).norm(dim=-1).mean()


@MODELS.register_module()
class MeshVQVAE(BaseModel):
    """Mesh autoencoder with a vector-quantised latent.

    The layer list is split in two halves: the encoder (ELU after every layer, the latent's
    included) and the decoder (ELU after every layer but the last). The encoder's output,
    (B, T, D) on the coarsest vertex set, is quantised per token by an EMA codebook
    (:class:`EMAVectorQuantizer`, shared with PCT); the decoder maps the codes back to the mesh.

    Args:
        layers (Sequence[dict]): the layers in order, each ``dict(connection=NAME,
            in_channels=Cin, out_channels=Cout, residual_rate=r)`` with ``NAME`` a connection
            file of ``connection_dir`` without ``.npy`` (see :class:`MeshConv`); an even count.
        connection_dir (str): folder of the MeshConvolution connection files.
        num_vertices (int): vertices of the input mesh (SMPL: 6890).
        num_bases (int): K, shared kernels of every convolution.
        num_codes (int): codebook size.
        decay (float): EMA decay of the codebook.
        commitment_cost (float): weight of the commitment loss ``MSE(codes, latent)``.
        dead_code_threshold (float): restart codes whose EMA count falls below this (see
            :class:`EMAVectorQuantizer`); 0 (the reference setting) turns restarts off.
        cpu_chunk_size (int): on the CPU, passes without gradients (``encode``, ``decode``,
            evaluation) run this many meshes at a time; the neighbour gathers of larger
            batches outgrow the caches (measured, ``medium``, one thread, batch of 64: encode
            65 / decode 47 meshes/s one at a time, 60 / 30 in fours, 28 / 17 whole). 0 runs
            whole batches. Default: 1.
        data_preprocessor, init_cfg: as in :class:`mmengine.model.BaseModel`.

    Shapes:
        vertices (B, V, 3), m; latent and codes (B, T, D); token indices (B, T) int64.
    """

    def __init__(self, layers: Sequence[dict], connection_dir: str, num_vertices: int = 6890,
                 num_bases: int = 9, num_codes: int = 512, decay: float = 0.99,
                 commitment_cost: float = 0.25, dead_code_threshold: float = 0.0,
                 cpu_chunk_size: int = 1,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not layers or len(layers) % 2:
            raise ValueError(f'MeshVQVAE: layers must be an even, non-empty list (encoder '
                             f'half, decoder half), got {len(layers)}')
        built: List[MeshConv] = []
        vertices = num_vertices
        for index, layer in enumerate(layers):
            unknown = set(layer) - {'connection', 'in_channels', 'out_channels',
                                    'residual_rate'}
            if unknown:
                raise ValueError(f'MeshVQVAE: layer {index} has unknown keys {sorted(unknown)}')
            if built and layer['in_channels'] != built[-1].out_channels:
                raise ValueError(f'MeshVQVAE: layer {index} takes {layer["in_channels"]} '
                                 f'channels, layer {index - 1} gives '
                                 f'{built[-1].out_channels}')
            built.append(MeshConv(
                layer['in_channels'], layer['out_channels'],
                osp.join(connection_dir, f'{layer["connection"]}.npy'), in_vertices=vertices,
                num_bases=num_bases, residual_rate=layer.get('residual_rate', 0.0),
                activation=index != len(layers) - 1))
            vertices = built[-1].out_vertices
        if vertices != num_vertices or built[-1].out_channels != 3:
            raise ValueError(f'MeshVQVAE: the decoder ends with {vertices} vertices x '
                             f'{built[-1].out_channels} channels, expected {num_vertices} x 3')
        half = len(built) // 2
        self.encoder = nn.ModuleList(built[:half])
        self.decoder = nn.ModuleList(built[half:])
        self.num_vertices = num_vertices
        self.num_tokens = self.encoder[-1].out_vertices
        self.code_dims = self.encoder[-1].out_channels
        self.quantizer = EMAVectorQuantizer(num_codes, self.code_dims, decay=decay,
                                            dead_code_threshold=dead_code_threshold)
        self.commitment_cost = commitment_cost
        self.cpu_chunk_size = cpu_chunk_size

    # ------------------------------------------------------------------ building blocks
    def _run(self, layers: nn.ModuleList, x: Tensor) -> Tensor:
        """``x`` through ``layers``; on the CPU without gradients, ``cpu_chunk_size`` samples
        at a time (see the class docstring)."""
        chunk = self.cpu_chunk_size
        if x.device.type == 'cpu' and not torch.is_grad_enabled() and 0 < chunk < len(x):
            return torch.cat([self._run(layers, part) for part in x.split(chunk)])
        for layer in layers:
            x = layer(x)
        return x

    def encode_latent(self, vertices: Tensor) -> Tensor:
        """(B, V, 3) meshes (centred here) -> (B, T, D) continuous latent."""
        return self._run(self.encoder, center_on_vertex_mean(vertices))

    def decode_codes(self, codes: Tensor) -> Tensor:
        """(B, T, D) codes -> (B, V, 3) canonical (vertex-mean-centred) meshes."""
        return self._run(self.decoder, codes)

    @torch.no_grad()
    def encode(self, vertices: Tensor) -> Tensor:
        """(B, V, 3) meshes -> (B, T) token indices (the codebook is not updated)."""
        return self.quantizer.nearest(self.encode_latent(vertices))

    def decode(self, indices: Tensor) -> Tensor:
        """(B, T) token indices -> (B, V, 3) canonical meshes."""
        return self.decode_codes(self.quantizer.lookup(indices))

    def reconstruct(self, vertices: Tensor) -> Dict[str, Tensor]:
        """Encode, quantise (EMA update in training mode) and decode.

        Returns:
            dict: ``vertices`` (B, V, 3) reconstruction, ``indices`` (B, T),
            ``commitment_loss`` (scalar, ``MSE(codes, latent)``).
        """
        quantized, indices, latent_loss = self.quantizer(self.encode_latent(vertices))
        return dict(vertices=self.decode_codes(quantized), indices=indices,
                    commitment_loss=latent_loss)

    # ------------------------------------------------------------------ mmengine contract
    def forward(self, inputs: Union[Tensor, Sequence[Tensor]],
                data_samples: Optional[Union[dict, list]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], list, Tensor]:
        """Run on meshes ``inputs`` (B, V, 3), or a list of (V, 3) (stacked here).

        ``mode='loss'``: ``loss_v2v`` (mean vertex error of the re-centred reconstruction,
        input units) and ``loss_commitment``; ``'predict'``: one dict per mesh with
        ``pred_vertices`` (V, 3) and ``indices`` (T,); ``'tensor'``: the (B, V, 3)
        reconstruction. ``data_samples`` (the samples' metadata) is not used."""
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        if inputs.dim() != 3 or inputs.shape[1:] != (self.num_vertices, 3):
            raise ValueError(f'MeshVQVAE expects meshes (B, {self.num_vertices}, 3), got '
                             f'{tuple(inputs.shape)}')
        out = self.reconstruct(inputs)
        if mode == 'loss':
            return dict(loss_v2v=vertex_to_vertex_error(out['vertices'],
                                                        center_on_vertex_mean(inputs)),
                        loss_commitment=self.commitment_cost * out['commitment_loss'])
        if mode == 'predict':
            return [dict(pred_vertices=v, indices=i)
                    for v, i in zip(out['vertices'], out['indices'])]
        if mode == 'tensor':
            return out['vertices']
        raise ValueError(f'MeshVQVAE: unknown mode {mode!r} (loss, predict or tensor)')
