from .pct_swinv2 import PCTSwinV2  # noqa: F401
from .hrnet_downsampled import HRNetDownsampled  # noqa: F401
