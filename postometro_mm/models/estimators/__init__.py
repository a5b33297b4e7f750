from .mesh_estimator import MeshEstimator  # noqa: F401
from .pct_estimator import PCTPoseEstimator  # noqa: F401
from .mesh_vqvae import MeshVQVAE  # noqa: F401
from .vqhps_estimator import VQHPSEstimator  # noqa: F401
