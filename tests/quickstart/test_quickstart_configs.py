"""The quickstart's configs: every image backbone that starts from the heatmap pretraining gets
its weights (a backbone that loads none only logs a warning and trains from scratch)."""
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpose.registry import MODELS

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / 'quickstart'
HEATMAP_CONFIG = CONFIG_DIR / 'td-hm_r18-tiny_quickstart-128x128.py'
#: Configs whose image backbones load the heatmap pretraining's checkpoint, and how many.
STARTS_FROM_HEATMAP = {
    'postometro-s_r18-tiny_quickstart-128x128.py': 1,
    'fastmetro-s_r18-tiny_quickstart-128x128.py': 1,
    'postometro-s_r18-tiny_quickstart-128x128_gt-keypoints.py': 1,
    'vqhps_r18-tiny_quickstart-128x128.py': 2,
    'pct_classifier_r18-tiny_quickstart-128x128.py': 1,
}


def _backbones_from(node: Any, checkpoint: str, path: str = 'model') -> Iterator[Tuple[str, dict]]:
    """(config path, config) of every sub-config of ``node`` whose ``init_cfg`` loads
    ``checkpoint``."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('checkpoint') == checkpoint:
            yield path, node
        for key, value in node.items():
            yield from _backbones_from(value, checkpoint, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _backbones_from(value, checkpoint, f'{path}.{i}')


@pytest.fixture(scope='module')
def heatmap_checkpoint(tmp_path_factory) -> Tuple[str, dict]:
    """A checkpoint of the heatmap model (random weights, its real state-dict layout) and the
    state dict of its backbone."""
    init_default_scope('mmpose')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(HEATMAP_CONFIG)).model)
    path = tmp_path_factory.mktemp('heatmap') / 'iter_800.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path), model.backbone.state_dict()


@pytest.mark.parametrize('name', sorted(STARTS_FROM_HEATMAP))
def test_image_backbones_load_every_weight_of_the_heatmap_pretraining(name, heatmap_checkpoint):
    path, expected = heatmap_checkpoint
    cfg = Config.fromfile(str(CONFIG_DIR / name))
    found: List[Tuple[str, dict]] = list(_backbones_from(cfg.model.to_dict(),
                                                         cfg.resnet_heatmap_checkpoint))
    assert len(found) == STARTS_FROM_HEATMAP[name], [p for p, _ in found]
    init_default_scope('mmpose')
    for where, backbone in found:
        backbone = dict(backbone, init_cfg=dict(backbone['init_cfg'], checkpoint=path))
        torch.manual_seed(1)
        net = MODELS.build(backbone)
        net.init_weights()
        state = net.state_dict()
        assert state.keys() == expected.keys(), where
        for key, value in expected.items():
            assert torch.equal(state[key], value), (where, key)
