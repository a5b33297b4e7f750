from .pct_swinv2 import PCTSwinV2  # noqa: F401
