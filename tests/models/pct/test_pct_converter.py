import importlib.util
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from postometro_mm.models.converters import pct_official_to_plugin, pct_plugin_to_official

REPO_ROOT = Path(__file__).resolve().parents[3]
PCT_CONFIGS = REPO_ROOT / 'configs' / 'pct'
REFERENCE_FILES = {
    0.5: 'PostoMETRO-S_PoseResNet50_PCTbase-guide0.5.txt',
    0.0: 'PostoMETRO-M_HRNetW48pose_PCTbase-guide0.0.txt',
}
BASE_CONFIGS = {
    0.5: 'pct_classifier_swinv2-base_coco-256x256.py',
    0.0: 'pct_classifier_swinv2-base-noimgguide_coco-256x256.py',
}


def _random_official_state_dict(path: Path) -> 'OrderedDict[str, torch.Tensor]':
    """Random tensors with exactly the keys and shapes of the reference PCT-Base listing
    (lines ``pct.<key> <d0>x<d1>...``; ``extra_backbone`` duplicates ``backbone``)."""
    gen = torch.Generator().manual_seed(0)
    state = OrderedDict()
    for line in path.read_text().splitlines():
        if not line.startswith('pct.'):
            continue
        name, _, dims = line[len('pct.'):].partition(' ')
        shape = tuple(int(d) for d in dims.split('x')) if dims.strip() else ()
        if name.startswith('extra_backbone.'):
            state[name] = state['backbone.' + name[len('extra_backbone.'):]].clone()
        elif name.endswith(('num_batches_tracked', 'relative_position_index')):
            state[name] = torch.randint(0, 100, shape, generator=gen)
        else:
            state[name] = torch.randn(shape, generator=gen)
    return state


@pytest.mark.parametrize('guide', [0.5, 0.0])
def test_reference_layout_round_trip(guide, reference_data_dir, build_pct):
    official = _random_official_state_dict(
        reference_data_dir / 'official_state_dicts' / REFERENCE_FILES[guide])
    assert any(k.startswith('extra_backbone.') for k in official) == (guide > 0)

    plugin = pct_official_to_plugin(official)
    assert not any(k.startswith('extra_backbone.') for k in plugin)
    with torch.device('meta'):  # PCT-Base (128 M parameters) without allocating weights
        model = build_pct(PCT_CONFIGS / BASE_CONFIGS[guide])
    # strict: zero missing and zero unexpected keys; shapes are checked before assignment
    model.load_state_dict(plugin, strict=True, assign=True)

    back = pct_plugin_to_official(model.state_dict())
    assert set(back) == set(official)
    for key, value in official.items():
        assert back[key].dtype == value.dtype and torch.equal(back[key], value), key


def test_extra_backbone_mismatch_and_unknown_keys_are_rejected():
    official = OrderedDict([('backbone.norm3.weight', torch.ones(4)),
                            ('extra_backbone.norm3.weight', torch.zeros(4))])
    with pytest.raises(ValueError, match='extra_backbone.norm3.weight'):
        pct_official_to_plugin(official)
    with pytest.raises(KeyError, match='keypoint_head.something'):
        pct_official_to_plugin({'keypoint_head.something.weight': torch.ones(1)})


def test_stage1_layout_has_only_extra_backbone(tmp_path, tiny_pct_config, build_pct):
    model = build_pct(tiny_pct_config(tmp_path, stage='tokenizer', guide_ratio=0.5))
    official = pct_plugin_to_official(model.state_dict())
    assert not any(k.startswith('backbone.') for k in official)
    assert any(k.startswith('extra_backbone.') for k in official)
    assert all(k.startswith(('extra_backbone.', 'keypoint_head.tokenizer.')) for k in official)
    assert 'keypoint_head.tokenizer.codebook' in official
    assert 'keypoint_head.tokenizer.encoder.0.MLP_token.ff.0.weight' in official
    plugin = pct_official_to_plugin(official)
    assert plugin.keys() == model.state_dict().keys()
    model.load_state_dict(plugin, strict=True)


def _load_cli():
    path = REPO_ROOT / 'tools' / 'model_converters' / 'pct_to_plugin.py'
    spec = importlib.util.spec_from_file_location('pct_to_plugin', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_converts_reports_and_writes_atomically(tmp_path, tiny_pct_config, build_pct,
                                                    capsys, monkeypatch):
    (tmp_path / 'elsewhere').mkdir()
    monkeypatch.chdir(tmp_path / 'elsewhere')  # the key check needs no file of the checkout
    cfg = tiny_pct_config(tmp_path, stage='classifier', guide_ratio=0.5)
    model = build_pct(cfg)
    official = pct_plugin_to_official(model.state_dict())
    src = tmp_path / 'official.pth'
    torch.save(dict(state_dict=official, meta=dict(epoch=210)), src)
    dst = tmp_path / 'out' / 'plugin.pth'
    cli = _load_cli()

    assert cli.main([str(src), str(dst), '--config', str(cfg)]) == 0
    report = capsys.readouterr().out
    for kind in ('missing keys', 'unexpected keys', 'shape mismatches'):
        assert f'{kind} (' in report and '): 0' in report.split(kind)[1].split('\n')[0]
    saved = torch.load(dst, map_location='cpu', weights_only=False)
    assert saved['meta']['layout'] == 'postometro_mm'
    model.load_state_dict(saved['state_dict'], strict=True)
    assert [p.name for p in dst.parent.iterdir()] == ['plugin.pth']  # no temporary left

    with pytest.raises(FileExistsError, match='--force'):
        cli.main([str(src), str(dst)])

    back = tmp_path / 'back.pth'
    assert cli.main([str(dst), str(back), '--reverse']) == 0
    restored = torch.load(back, map_location='cpu', weights_only=False)['state_dict']
    assert restored.keys() == official.keys()
    assert all(torch.equal(restored[k], official[k]) for k in official)

    # a model that does not match the converted keys is reported with a non-zero exit status
    other = tiny_pct_config(tmp_path, stage='tokenizer', guide_ratio=0.0)
    capsys.readouterr()
    assert cli.main([str(src), str(dst), '--force', '--config', str(other)]) == 1
    report = capsys.readouterr().out
    assert 'head.classifier.cls_pred.weight' in report.split('unexpected keys')[1]
    assert 'head.tokenizer.start_embed.weight' in report.split('shape mismatches')[1]
