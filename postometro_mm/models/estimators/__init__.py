from .mesh_estimator import MeshEstimator  # noqa: F401
from .pct_estimator import PCTPoseEstimator  # noqa: F401
