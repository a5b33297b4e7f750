"""Causal (left-to-right) transformer blocks that turn a sequence of token features into
codebook logits: VQ-HPS's token classifier on top of its decoder (a GPT-style block, run as one
parallel pass; nothing is sampled token by token)."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which token i attends to tokens 0..i only.

    ``query``, ``key``, ``value`` and ``proj`` are separate Linear layers (the VQ-HPS names);
    dropout on the attention weights and on the output.

    Args:
        embed_dims (int): token width C (divisible by ``num_heads``).
        num_heads (int): attention heads.
        dropout (float): attention and output dropout.

    Shapes:
        (B, T, C) -> (B, T, C), any T.
    """

    def __init__(self, embed_dims: int, num_heads: int, dropout: float = 0.1) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'CausalSelfAttention: embed_dims {embed_dims} is not divisible '
                             f'by num_heads {num_heads}')
        self.num_heads = num_heads
        self.query = nn.Linear(embed_dims, embed_dims)
        self.key = nn.Linear(embed_dims, embed_dims)
        self.value = nn.Linear(embed_dims, embed_dims)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.attn_dropout = dropout
        self.resid_drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        batch, tokens, channels = x.shape

        def heads(t: Tensor) -> Tensor:  # (B, T, C) -> (B, heads, T, C / heads)
            return t.view(batch, tokens, self.num_heads, -1).transpose(1, 2)

        out = F.scaled_dot_product_attention(
            heads(self.query(x)), heads(self.key(x)), heads(self.value(x)), is_causal=True,
            dropout_p=self.attn_dropout if self.training else 0.0)
        return self.resid_drop(self.proj(out.transpose(1, 2).reshape(batch, tokens, channels)))


class CausalTokenBlock(nn.Module):
    """Pre-norm block ``x + attn(ln1(x))`` then ``x + mlp(ln2(x))``, with a GELU MLP
    (``mlp.0`` Linear, GELU, ``mlp.2`` Linear, dropout).

    Args:
        embed_dims (int): token width.
        num_heads (int): attention heads.
        feedforward_channels (int): MLP hidden width.
        dropout (float): dropout of the attention and the MLP output.
    """

    def __init__(self, embed_dims: int, num_heads: int, feedforward_channels: int,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(embed_dims)
        self.ln2 = nn.LayerNorm(embed_dims)
        self.attn = CausalSelfAttention(embed_dims, num_heads, dropout)
        self.mlp = nn.Sequential(
            nn.Linear(embed_dims, feedforward_channels), nn.GELU(),
            nn.Linear(feedforward_channels, embed_dims), nn.Dropout(dropout))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CausalTokenClassifier(nn.Module):
    """``num_blocks`` :class:`CausalTokenBlock` (``blocks.{i}``), a LayerNorm (``ln_f``) and a
    bias-free Linear (``head``) to ``num_classes`` logits per token.

    Args:
        embed_dims (int): token width.
        num_classes (int): logits per token (the codebook size).
        num_heads (int): attention heads.
        feedforward_channels (int): MLP hidden width.
        num_blocks (int): causal blocks.
        dropout (float): block dropout.

    Shapes:
        (B, T, C) -> (B, T, num_classes).
    """

    def __init__(self, embed_dims: int, num_classes: int, num_heads: int = 8,
                 feedforward_channels: int = 1024, num_blocks: int = 1,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*[
            CausalTokenBlock(embed_dims, num_heads, feedforward_channels, dropout)
            for _ in range(num_blocks)])
        self.ln_f = nn.LayerNorm(embed_dims)
        self.head = nn.Linear(embed_dims, num_classes, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.ln_f(self.blocks(x)))


def causal_mask(num_tokens: int) -> Tensor:
    """(1, 1, T, T) float lower-triangular ones: the causal mask as the released VQ-HPS
    checkpoints store it (``...attn.mask``)."""
    return torch.tril(torch.ones(num_tokens, num_tokens)).view(1, 1, num_tokens, num_tokens)
