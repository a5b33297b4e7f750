from .mixer import MixerLayer, MixerMLP

__all__ = ['MixerLayer', 'MixerMLP']
from .position_encoding import SinePositionEncoding2D  # noqa: E402
from .transformer import (PreNormDecoderLayer, PreNormEncoderLayer,  # noqa: E402
                          PreNormTransformer, PreNormTransformerDecoder,
                          PreNormTransformerEncoder)

__all__ += [
    'SinePositionEncoding2D', 'PreNormEncoderLayer', 'PreNormDecoderLayer',
    'PreNormTransformerEncoder', 'PreNormTransformerDecoder', 'PreNormTransformer'
]
from .vector_quantizer import EMAVectorQuantizer  # noqa: E402

__all__ += ['EMAVectorQuantizer']
from .mesh_convolution import ConnectionFileError, MeshConv, read_connection_file  # noqa: E402

__all__ += ['MeshConv', 'read_connection_file', 'ConnectionFileError']
from .causal_token_classifier import (CausalSelfAttention, CausalTokenBlock,  # noqa: E402
                                      CausalTokenClassifier, causal_mask)

__all__ += ['CausalSelfAttention', 'CausalTokenBlock', 'CausalTokenClassifier', 'causal_mask']
