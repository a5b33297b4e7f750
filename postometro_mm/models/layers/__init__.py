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
