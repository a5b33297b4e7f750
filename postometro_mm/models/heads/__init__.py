from .mesh_head_utils import project_weak_perspective  # noqa: F401
from .postometro_head import PostoMETROHead  # noqa: F401
from .pct_classifier import PCTClassifier  # noqa: F401
from .pct_head import PCTHead  # noqa: F401
from .pct_tokenizer import PCTTokenizer, sample_features_at_keypoints  # noqa: F401
from .vqhps_head import VQHPSHead  # noqa: F401
