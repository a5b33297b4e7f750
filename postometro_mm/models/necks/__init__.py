from .pose_token_modulator import PoseTokenModulator

__all__ = ['PoseTokenModulator']
