"""Pre-norm transformer encoder/decoder of FastMETRO and PostoMETRO.

Parameter names match the reference implementation (``self_attn.in_proj_weight``,
``multihead_attn.*``, ``linear1/2``, ``norm1/2/3``; stacks hold ``layers.{i}`` and a final
``norm``), so reference weights load by prefix renaming only. All tensors are batch-first
(B, N, C). Position encodings are passed as full-length tensors (zeros where a token has no
position, e.g. the camera and pose tokens), which is numerically identical to the reference's
partial addition.
"""
from typing import Optional, Tuple

import torch.nn.functional as F
from torch import Tensor, nn


def _add_pos(x: Tensor, pos: Optional[Tensor]) -> Tensor:
    return x if pos is None else x + pos


class _PreNormLayer(nn.Module):
    """What both layer types share: pre-normed self-attention (``self_attn``, ``norm1``,
    ``dropout1``) and a pre-normed ReLU feed-forward network (``linear1``, ``dropout``,
    ``linear2``) whose ``norm``/``dropout`` are named by the subclass.

    Args:
        embed_dims (int): token width C.
        num_heads (int): attention heads.
        feedforward_channels (int): hidden width of the feed-forward network.
        dropout (float): dropout in attention, after each residual branch and inside the FFN.
    """

    def __init__(self, embed_dims: int, num_heads: int, feedforward_channels: int,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(embed_dims, num_heads, dropout=dropout,
                                               batch_first=True)
        self.linear1 = nn.Linear(embed_dims, feedforward_channels)
        self.linear2 = nn.Linear(feedforward_channels, embed_dims)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)

    def _feed_forward(self, x: Tensor, norm: nn.LayerNorm, dropout: nn.Dropout) -> Tensor:
        """``x + dropout(FFN(norm(x)))`` for (B, N, C) tokens."""
        return x + dropout(self.linear2(self.dropout(F.relu(self.linear1(norm(x))))))


class PreNormEncoderLayer(_PreNormLayer):
    """``x = x + SA(LN1(x)); x = x + FFN(LN2(x))``; position added to queries and keys only.

    Args: as :class:`_PreNormLayer`.
    """

    def __init__(self, embed_dims: int, num_heads: int, feedforward_channels: int,
                 dropout: float = 0.1) -> None:
        super().__init__(embed_dims, num_heads, feedforward_channels, dropout)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.dropout2 = nn.Dropout(dropout)

    def forward(self, x: Tensor, pos: Optional[Tensor] = None) -> Tensor:
        """
        Args:
            x (Tensor): (B, N, C) tokens.
            pos (Tensor, optional): (B or 1, N, C) position encoding.
        Returns:
            Tensor: (B, N, C).
        """
        h = self.norm1(x)
        qk = _add_pos(h, pos)
        x = x + self.dropout1(self.self_attn(qk, qk, h, need_weights=False)[0])
        return self._feed_forward(x, self.norm2, self.dropout2)


class PreNormDecoderLayer(_PreNormLayer):
    """Masked self-attention, cross-attention to the memory, FFN; each pre-normed and residual.

    Args: as :class:`_PreNormLayer`.
    """

    def __init__(self, embed_dims: int, num_heads: int, feedforward_channels: int,
                 dropout: float = 0.1) -> None:
        super().__init__(embed_dims, num_heads, feedforward_channels, dropout)
        self.multihead_attn = nn.MultiheadAttention(embed_dims, num_heads, dropout=dropout,
                                                    batch_first=True)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.norm3 = nn.LayerNorm(embed_dims)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def forward(self, x: Tensor, memory: Tensor, self_attn_mask: Optional[Tensor] = None,
                memory_pos: Optional[Tensor] = None) -> Tensor:
        """
        Args:
            x (Tensor): (B, Q, C) queries.
            memory (Tensor): (B, M, C) encoder tokens.
            self_attn_mask (Tensor, optional): (Q, Q) bool, True = query i may not attend to j.
            memory_pos (Tensor, optional): (B or 1, M, C) position encoding of the memory keys.
        Returns:
            Tensor: (B, Q, C).
        """
        h = self.norm1(x)
        x = x + self.dropout1(
            self.self_attn(h, h, h, attn_mask=self_attn_mask, need_weights=False)[0])
        h = self.norm2(x)
        x = x + self.dropout2(self.multihead_attn(
            h, _add_pos(memory, memory_pos), memory, need_weights=False)[0])
        return self._feed_forward(x, self.norm3, self.dropout3)


class _PreNormStack(nn.Module):
    """``num_layers`` layers of type ``layer_type`` (``layers.{i}``) and a final LayerNorm
    (``norm``); the layer arguments are those of :class:`_PreNormLayer`."""
    layer_type = _PreNormLayer

    def __init__(self, num_layers: int, embed_dims: int, num_heads: int,
                 feedforward_channels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            self.layer_type(embed_dims, num_heads, feedforward_channels, dropout)
            for _ in range(num_layers))
        self.norm = nn.LayerNorm(embed_dims)


class PreNormTransformerEncoder(_PreNormStack):
    """``num_layers`` :class:`PreNormEncoderLayer` followed by a LayerNorm (``norm``)."""
    layer_type = PreNormEncoderLayer

    def forward(self, x: Tensor, pos: Optional[Tensor] = None) -> Tensor:
        for layer in self.layers:
            x = layer(x, pos)
        return self.norm(x)


class PreNormTransformerDecoder(_PreNormStack):
    """``num_layers`` :class:`PreNormDecoderLayer` followed by a LayerNorm (``norm``)."""
    layer_type = PreNormDecoderLayer

    def forward(self, x: Tensor, memory: Tensor, self_attn_mask: Optional[Tensor] = None,
                memory_pos: Optional[Tensor] = None) -> Tensor:
        for layer in self.layers:
            x = layer(x, memory, self_attn_mask, memory_pos)
        return self.norm(x)


class PreNormTransformer(nn.Module):
    """Encoder-decoder pair of FastMETRO (``encoder`` / ``decoder``), xavier-initialised.

    The encoder runs over all source tokens; the decoder memory is the encoder output without
    its first ``num_prefix_tokens`` tokens (the camera token).

    Args:
        embed_dims (int): token width (512 / 128 in the two PostoMETRO stages).
        num_heads (int): attention heads. Defaults to 8.
        feedforward_channels (int): FFN width (2048 / 512).
        num_encoder_layers (int): encoder depth (S 1, M 2, L 3).
        num_decoder_layers (int): decoder depth (S 1, M 2, L 3).
        dropout (float): dropout probability. Defaults to 0.1.
    """

    def __init__(self, embed_dims: int, num_heads: int = 8, feedforward_channels: int = 2048,
                 num_encoder_layers: int = 1, num_decoder_layers: int = 1,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.embed_dims = embed_dims
        self.encoder = PreNormTransformerEncoder(num_encoder_layers, embed_dims, num_heads,
                                                 feedforward_channels, dropout)
        self.decoder = PreNormTransformerDecoder(num_decoder_layers, embed_dims, num_heads,
                                                 feedforward_channels, dropout)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, src: Tensor, queries: Tensor, src_pos: Optional[Tensor] = None,
                query_mask: Optional[Tensor] = None,
                num_prefix_tokens: int = 1) -> Tuple[Tensor, Tensor]:
        """
        Args:
            src (Tensor): (B, S, C) encoder tokens, prefix tokens first.
            queries (Tensor): (B, Q, C) decoder queries.
            src_pos (Tensor, optional): (B or 1, S, C) position encoding of ``src``.
            query_mask (Tensor, optional): (Q, Q) bool decoder self-attention mask.
            num_prefix_tokens (int): leading encoder tokens left out of the decoder memory.
        Returns:
            tuple: encoder output (B, S, C) and decoder output (B, Q, C).
        """
        enc = self.encoder(src, src_pos)
        memory_pos = None if src_pos is None else src_pos[:, num_prefix_tokens:]
        dec = self.decoder(queries, enc[:, num_prefix_tokens:], query_mask, memory_pos)
        return enc, dec
