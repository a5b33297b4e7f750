"""MLP-Mixer layer shared by the PCT tokenizer/classifier and the PostoMETRO pose modulator."""
from torch import Tensor, nn


class MixerMLP(nn.Sequential):
    """Linear → GELU → Dropout → Linear → Dropout.

    Args:
        in_channels (int): input and output width.
        hidden_channels (int): hidden width.
        dropout (float): dropout probability after each linear layer's activation/output.
    """

    def __init__(self, in_channels: int, hidden_channels: int, dropout: float = 0.0) -> None:
        super().__init__(
            nn.Linear(in_channels, hidden_channels), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden_channels, in_channels), nn.Dropout(dropout))


class MixerLayer(nn.Module):
    """One MLP-Mixer block over a set of tokens (Tolstikhin et al., 2021), PCT's variant.

    ``y = token_mlp(LN1(x)ᵀ)ᵀ``; ``z = channel_mlp(LN2(x + y))``; ``out = x + y + z``.

    Args:
        hidden_dim (int): channels C of each token.
        hidden_inter_dim (int): hidden width of the channel MLP.
        token_dim (int): number of tokens N.
        token_inter_dim (int): hidden width of the token MLP.
        dropout (float): dropout inside both MLPs.

    Shapes:
        input and output: (B, N, C).
    """

    def __init__(self, hidden_dim: int, hidden_inter_dim: int, token_dim: int,
                 token_inter_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.layernorm1 = nn.LayerNorm(hidden_dim)
        self.token_mlp = MixerMLP(token_dim, token_inter_dim, dropout)
        self.layernorm2 = nn.LayerNorm(hidden_dim)
        self.channel_mlp = MixerMLP(hidden_dim, hidden_inter_dim, dropout)

    def forward(self, x: Tensor) -> Tensor:
        y = self.token_mlp(self.layernorm1(x).transpose(1, 2)).transpose(1, 2)
        z = self.channel_mlp(self.layernorm2(x + y))
        return x + y + z
