from . import backbones, estimators, heads, layers, losses, necks  # noqa: F401
