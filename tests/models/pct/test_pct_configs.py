from pathlib import Path

import pytest
import torch

CONFIG_DIR = Path(__file__).resolve().parents[3] / 'configs' / 'pct'
CONFIGS = sorted(p.name for p in CONFIG_DIR.glob('pct_*.py'))
EMBED = {'base': 128, 'large': 192, 'huge': 256}


def test_every_size_and_stage_has_a_config():
    for size in EMBED:
        for stage in ('tokenizer', 'classifier'):
            assert f'pct_{stage}_swinv2-{size}_coco-256x256.py' in CONFIGS


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_a_consistent_model(name, build_pct):
    with torch.device('meta'):
        model = build_pct(CONFIG_DIR / name)
    stage = 'classifier' if 'classifier' in name else 'tokenizer'
    head = model.head
    assert head.stage == stage and not model.frozen
    assert head.guided == ('noimgguide' not in name)
    size = name.split('swinv2-')[1].split('_')[0].split('-')[0]
    if model.backbone is not None:
        assert model.backbone.num_features[-1] == 8 * EMBED[size]
        assert all(not p.requires_grad for p in model.backbone.parameters())
    if head.guided:
        assert head.tokenizer.start_img_embed.in_features == 8 * EMBED[size]
    if stage == 'classifier':
        assert head.classifier.input_proj[0].in_channels == 8 * EMBED[size]
        assert head.classifier.token_proj[0].in_features == 256 * 8 * 8  # 16384 (SPEC §1.1)
    else:
        assert not hasattr(head, 'classifier')
