from pathlib import Path

import pytest
import torch

CONFIG_DIR = Path(__file__).resolve().parents[3] / 'configs' / 'pct'
CONFIGS = sorted(p.name for p in CONFIG_DIR.glob('pct_*.py'))
EMBED = {'base': 128, 'large': 192, 'huge': 256}
POSE_TOKENIZER_CONFIG = (CONFIG_DIR.parent / '_base_' / 'models' /
                         'pct_swinv2-base_pose-tokenizer.py')


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



def test_postometro_pose_tokenizer_is_the_stage2_architecture(build_pct):
    """A PCT-Base stage-2 checkpoint loads into PostoMETRO's pose tokenizer: same keys and
    shapes; only the use differs (frozen)."""
    from mmengine.config import Config

    from mmpose.registry import MODELS
    pose_tokenizer = Config.fromfile(str(POSE_TOKENIZER_CONFIG))['pose_tokenizer']
    with torch.device('meta'):
        stage2 = build_pct(CONFIG_DIR / 'pct_classifier_swinv2-base_coco-256x256.py')
        tokenizer = MODELS.build(pose_tokenizer)
    assert tokenizer.frozen and not stage2.frozen
    assert ({k: v.shape for k, v in tokenizer.state_dict().items()} ==
            {k: v.shape for k, v in stage2.state_dict().items()})
