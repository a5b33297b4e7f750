"""How big the quickstart is: world sizes and training lengths of its two modes.

The full mode trains for the iterations written in ``configs/quickstart/*.py``; the quick mode
(``QUICK=1`` / ``--quick``, run end to end by the test suite) shortens them, and their
schedules in proportion, through ``--cfg-options`` (:func:`shortened_training`). Both modes
share every other setting.
"""
from dataclasses import dataclass
from typing import Any, Dict, Optional

#: The quickstart's configs, relative to the repository root.
CONFIG_DIR = 'configs/quickstart'
CONFIGS = dict(
    resnet_heatmap='td-hm_r18-tiny_quickstart-128x128',
    pct_tokenizer='pct_tokenizer_quickstart-128x128',
    pct_classifier='pct_classifier_r18-tiny_quickstart-128x128',
    postometro='postometro-s_r18-tiny_quickstart-128x128',
    fastmetro='fastmetro-s_r18-tiny_quickstart-128x128',
    oracle='postometro-s_r18-tiny_quickstart-128x128_gt-keypoints',
    mesh_vqvae='mesh-vqvae_quickstart',
    vqhps='vqhps_r18-tiny_quickstart-128x128',
)
#: The trainings; the two mesh models compared by the report; those trained at equal budgets
#: (the two and the oracle with ground-truth keypoint tokens); every trained mesh model (with
#: VQ-HPS, which gets a quarter of their iterations to keep the quickstart's time), the splits
#: they are evaluated on and the names of the references without an image model
#: (postometro_mm.quickstart.baseline).
TRAININGS = tuple(CONFIGS)
MESH_MODELS = ('postometro', 'fastmetro')
ORACLE = 'oracle'
VQHPS = 'vqhps'
EQUAL_BUDGET_MODELS = (*MESH_MODELS, ORACLE)
TRAINED_MESH_MODELS = (*EQUAL_BUDGET_MODELS, VQHPS)
#: VQ-HPS's mesh tokenizer (trained on the world's meshes, evaluated on the test split's) and
#: the stage writing its connection hierarchy.
MESH_AUTOENCODER = 'mesh_vqvae'
MESH_HIERARCHY = 'mesh_hierarchy'
EVAL_SPLITS = ('test', 'test_occluded')
BASELINE = 'mean_mesh_baseline'
#: The second constant reference: the mean training pose facing the camera.
FACING_REFERENCE = 'mean_pose_facing_camera'
#: The third: ridge regression from the ground-truth 2D keypoints to the mesh.
LIFTING_REFERENCE = 'lifting_baseline'
#: The fourth: an MLP from the same keypoints, trained at the oracle's budget and recipe.
LEARNED_LIFTING_REFERENCE = 'mlp_lifting_baseline'
#: The references without an image model, in table order.
REFERENCES = (BASELINE, FACING_REFERENCE, LIFTING_REFERENCE, LEARNED_LIFTING_REFERENCE)
#: Suffix of the configs that evaluate a mesh model on the occluded test split.
OCCLUDED_SUFFIX = '_test-occluded'
#: World image side in px (the configs crop 128x128).
WORLD_IMAGE_SIZE = 128


@dataclass(frozen=True)
class QuickstartBudget:
    """Sizes of one quickstart mode.

    Attributes:
        name: ``'full'`` or ``'quick'``.
        num_train, num_test, num_test_occluded: world images per split.
        max_iters: training iterations per training stage (keys of :data:`CONFIGS`);
            missing or ``None`` keeps the config's value. The models of
            :data:`EQUAL_BUDGET_MODELS` get the same number.
        num_overlays: test images per split drawn in the report.
        minutes: the time the mode is designed to take on two CPU cores.
    """
    name: str
    num_train: int
    num_test: int
    num_test_occluded: int
    max_iters: Dict[str, Optional[int]]
    num_overlays: int
    minutes: float

    def __post_init__(self) -> None:
        unknown = set(self.max_iters) - set(CONFIGS)
        if unknown:
            raise ValueError(f'QuickstartBudget({self.name}): unknown stages {unknown}')
        if len({self.max_iters.get(m) for m in EQUAL_BUDGET_MODELS}) > 1:
            raise ValueError(f'QuickstartBudget({self.name}): the mesh models '
                             f'{EQUAL_BUDGET_MODELS} need the same budget, got {self.max_iters}')


BUDGETS = {
    'full': QuickstartBudget(
        name='full', num_train=2000, num_test=200, num_test_occluded=200,
        max_iters=dict(), num_overlays=3, minutes=15),
    'quick': QuickstartBudget(
        name='quick', num_train=600, num_test=60, num_test_occluded=60,
        max_iters=dict(resnet_heatmap=600, postometro=1000, fastmetro=1000, oracle=1000,
                       vqhps=250, mesh_vqvae=150), num_overlays=2,
        minutes=8),
}


def shortened_training(config: Dict[str, Any], max_iters: int) -> Dict[str, Any]:
    """``--cfg-options`` that train ``config`` for ``max_iters`` iterations instead of its own
    ``train_cfg.max_iters``, with the explicit ``begin`` / ``end`` iterations of its
    ``param_scheduler`` scaled in proportion (a warm-up or a final decay keeps its share of the
    training; entries without them already span the whole training).

    Args:
        config: a resolved config (``Config.to_dict()``) with an iteration-based ``train_cfg``.
        max_iters: the new training length.

    Raises:
        ValueError: a scheduler counts epochs.
    """
    scale = max_iters / config['train_cfg']['max_iters']
    options: Dict[str, Any] = {'train_cfg.max_iters': max_iters}
    schedulers = config.get('param_scheduler') or []
    if isinstance(schedulers, dict):  # one scheduler, addressed without an index
        schedulers = {'param_scheduler': schedulers}
    else:
        schedulers = {f'param_scheduler.{i}': s for i, s in enumerate(schedulers)}
    for prefix, scheduler in schedulers.items():
        if scheduler.get('by_epoch', True):
            raise ValueError(f'{prefix} ({scheduler.get("type")}) counts epochs; the quickstart '
                             'shortens iteration-based schedules only')
        for key in ('begin', 'end'):
            if scheduler.get(key):
                options[f'{prefix}.{key}'] = int(round(scheduler[key] * scale))
    return options
