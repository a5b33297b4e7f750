"""Tiny versions of the repository's FastMETRO-S / PostoMETRO-S configs for end-to-end runs.

A tiny config ``_base_``-inherits the real config (absolute path) and only shrinks it: a
ResNet-18 at 1/8 width instead of the ResNet-50, transformers of widths 32 / 16, a tiny PCT for
the pose tokens, crops of 64 px, the synthetic body model, and the quickstart world (a
SPIN-style training split, a 3DPW-format test split read by the real ``PW3DDataset``) instead
of the real data. Augmentations, losses, optimiser, evaluation sampler and metric stay those of
the real config.
"""
from pathlib import Path
from typing import Any, Dict

from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
REAL_CONFIGS = {
    'fastmetro-s': REPO / 'configs' / 'postometro' / 'fastmetro-s_r50_mixed-256x256.py',
    'postometro-s': REPO / 'configs' / 'postometro' / 'postometro-s_r50_mixed-256x256.py',
    'vqhps': REPO / 'configs' / 'vqhps' / 'vqhps_r50_mixed-224x224.py',
}
INPUT_SIZE = 64
TRAIN_BATCH_SIZE = 2

# ResNet-18 at 1/8 width: 64 x 2 x 2 features for a 64 px crop.
TINY_BACKBONE = dict(depth=18, base_channels=8, stem_channels=8, init_cfg=None)
TINY_HEAD = dict(in_channels=64, embed_dims=(32, 16), feedforward_channels=(64, 32),
                 num_heads=4)
# PCT at 64 px: SwinV2 of width 16 (128 x 2 x 2 features), 6 tokens from 16 codes of 12 dims.
TINY_POSE_TOKENIZER = dict(
    backbone=dict(img_size=INPUT_SIZE, embed_dims=16, depths=[1, 1, 1, 1],
                  num_heads=[1, 2, 2, 4], window_size=[4, 4, 2, 2],
                  pretrained_window_size=[3, 3, 2, 2]),
    head=dict(in_channels=128, input_size=(INPUT_SIZE, INPUT_SIZE),
              tokenizer=dict(num_tokens=6, num_codes=16, code_dims=12, enc_hidden_dims=16,
                             enc_hidden_inter_dims=16, enc_token_inter_dims=4,
                             enc_num_blocks=1, dec_hidden_dims=8, dec_hidden_inter_dims=8,
                             dec_token_inter_dims=4),
              classifier=dict(conv_channels=8, conv_num_blocks=1, hidden_dims=8,
                              hidden_inter_dims=8, token_inter_dims=4, num_blocks=1)),
    init_cfg=None)
TINY_NECK = dict(in_channels=12, num_tokens=6, hidden_dims=32, hidden_inter_dims=32,
                 token_inter_dims=8, num_blocks=2, out_channels=TINY_HEAD['embed_dims'][0])


def _small_crops(pipeline: list) -> list:
    """The pipeline with every crop transform at ``INPUT_SIZE``."""
    return [dict(t, input_size=(INPUT_SIZE, INPUT_SIZE)) if 'input_size' in t else dict(t)
            for t in pipeline]


def _tiny_vqhps_model(out_dir: Path, body: Dict[str, Any]) -> Dict[str, Any]:
    """VQ-HPS with the tiny ResNet-18 for both backbones, a 32-wide transformer and a random
    frozen Mesh-VQ-VAE of 20 tokens x 16 codes on a hierarchy of the body's mesh."""
    import numpy as np

    from postometro_mm.body_models.connection_hierarchy import write_connection_hierarchy
    from postometro_mm.body_models.smpl_io import load_smpl_model_file
    count = body['num_vertices'][0]
    faces = np.asarray(load_smpl_model_file(body['smpl_paths']['neutral'])['f'], np.int64)
    connections = out_dir / 'connections'
    write_connection_hierarchy(faces, (count, 300, 80, 20), str(connections))
    channels = TINY_HEAD['in_channels']
    return dict(
        backbone=TINY_BACKBONE, rotation_backbone=TINY_BACKBONE,
        head=dict(in_channels=channels, rot_in_channels=channels, embed_dims=32, num_heads=4,
                  feedforward_channels=64, rot_hidden_channels=64,
                  joint_regressor=body['j_regressor_h36m'],
                  body_model=dict(model_path=body['model_dir']),
                  mesh_tokenizer=dict(connection_dir=str(connections), num_vertices=count,
                                      num_codes=16, init_cfg=None)))


def write_tiny_config(out_dir: Path, variant: str, body: Dict[str, Any],
                      world: Dict[str, Any]) -> Path:
    """Write ``tiny_<variant>.py`` into ``out_dir`` and return its path.

    Args:
        out_dir: folder of the config.
        variant: a key of ``REAL_CONFIGS``.
        body: the ``synthetic_body_model`` fixture (the world's body model).
        world: the result of ``postometro_mm.quickstart.generate_world``.
    """
    real = Config.fromfile(str(REAL_CONFIGS[variant])).to_dict()
    if variant == 'vqhps':
        model = _tiny_vqhps_model(out_dir, body)
    else:
        model = dict(
            backbone=TINY_BACKBONE,
            head=dict(TINY_HEAD,
                      mesh_sampler=dict(filename=body['mesh_downsampling']),
                      joint_regressor=body['j_regressor_h36m'],
                      body_model=dict(model_path=body['model_dir'])))
    if real['model'].get('pose_tokenizer') is not None:
        model.update(pose_tokenizer=TINY_POSE_TOKENIZER, neck=TINY_NECK)
    train, test = world['splits']['train'], world['splits']['test']
    # One crop per batch: the per-sample numbers of one and of two processes are then
    # computed by the same operations, so they must agree exactly.
    eval_loader = dict(
        batch_size=1, num_workers=0, persistent_workers=False,
        dataset=dict(data_root=test['pw3d_root'], ann_file=Path(test['pw3d_ann_file']).name,
                     pipeline=_small_crops(real['test_dataloader']['dataset']['pipeline'])))
    overrides = dict(
        model=model,
        train_dataloader=dict(
            batch_size=TRAIN_BATCH_SIZE, num_workers=0, persistent_workers=False,
            sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
            dataset=dict(
                _delete_=True, type='SPINNpzDataset', data_root=train['data_root'],
                ann_file=Path(train['ann_file']).name, data_prefix=dict(img=''),
                metainfo=dict(dataset_name='world_train'),
                pipeline=_small_crops(real['train_dataloader']['dataset']['pipeline']))),
        val_dataloader=eval_loader,
        test_dataloader=eval_loader,
        val_evaluator=dict(body_model=dict(type='GenderedSMPL', model_path=body['model_dir']),
                           joint_regressor=body['j_regressor_h36m']),
        train_cfg=dict(max_epochs=1),
        default_hooks=dict(logger=dict(interval=1)),
        visualizer=dict(faces=body['model_dir']),
        randomness=dict(seed=0))
    overrides['test_evaluator'] = overrides['val_evaluator']
    lines = [f'_base_ = [{str(REAL_CONFIGS[variant])!r}]']
    lines += [f'{key} = {value!r}' for key, value in overrides.items()]
    path = out_dir / f'tiny_{variant}.py'
    path.write_text('\n'.join(lines) + '\n')
    return path
