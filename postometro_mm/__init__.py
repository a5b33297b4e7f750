"""postometro_mm: 3D human mesh recovery (PostoMETRO, PCT, VQ-HPS) as an MMPose 1.x plugin.

Importing the package registers every module into mmpose's registries (``default_scope``
``'mmpose'``), so configs only need ``custom_imports=dict(imports=['postometro_mm'])``.
"""
from .utils.env_compat import apply_env_compat
from .version import __version__

apply_env_compat()

from . import body_models, datasets, engine, evaluation, models, visualization  # noqa: E402,F401

__all__ = ['__version__']
