from .mixer import MixerLayer, MixerMLP

__all__ = ['MixerLayer', 'MixerMLP']
