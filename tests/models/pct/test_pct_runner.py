"""End to end with MMEngine's Runner: stage 1 then stage 2 on a synthetic COCO-format set."""
import json
from pathlib import Path

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import Runner

COCO_KEYPOINT_NAMES = [
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
    'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
    'left_knee', 'right_knee', 'left_ankle', 'right_ankle'
]


def _write_coco_set(root: Path, poses: np.ndarray, visible: np.ndarray) -> None:
    """Noise images of 160x160 px with one person each (box around its keypoints)."""
    (root / 'images').mkdir(parents=True)
    rng = np.random.default_rng(0)
    images, annotations = [], []
    for i, (kpts, vis) in enumerate(zip(poses, visible)):
        name = f'{i:04d}.png'
        cv2.imwrite(str(root / 'images' / name), rng.integers(0, 255, (160, 160, 3), np.uint8))
        kpts = kpts * 0.5 + 16  # a 128 px pose inside the 160 px image
        x0, y0 = kpts.min(0) - 4
        w, h = kpts.max(0) - kpts.min(0) + 8
        flat = np.concatenate([kpts, 2 * vis[:, None]], axis=1).reshape(-1)
        images.append(dict(id=i + 1, file_name=name, width=160, height=160))
        annotations.append(dict(id=i + 1, image_id=i + 1, category_id=1, iscrowd=0,
                                bbox=[float(x0), float(y0), float(w), float(h)],
                                area=float(w * h), num_keypoints=int(vis.sum()),
                                keypoints=[float(v) for v in flat]))
    categories = [dict(id=1, name='person', supercategory='person',
                       keypoints=COCO_KEYPOINT_NAMES, skeleton=[])]
    (root / 'ann.json').write_text(json.dumps(
        dict(images=images, annotations=annotations, categories=categories)))


def _data_overrides(root: Path, work_dir: Path) -> str:
    return f'''
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='TopdownAffine', input_size=(128, 128)),
    dict(type='PackPoseInputs', pack_transformed=True),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.12),
    dict(type='TopdownAffine', input_size=(128, 128)),
    dict(type='PackPoseInputs', pack_transformed=True),
]
_data = dict(data_root='{root}', ann_file='ann.json', data_prefix=dict(img='images/'))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline, **_data))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=val_pipeline, **_data))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file='{root}/ann.json')
test_evaluator = val_evaluator
train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
param_scheduler = None
auto_scale_lr = dict(enable=False, base_batch_size=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, save_best=None))
work_dir = '{work_dir}'
'''


def _run(config: Path) -> Runner:
    cfg = Config.fromfile(str(config))
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_two_stage_training_and_coco_evaluation(tmp_path, coco_poses, tiny_pct_config):
    torch.manual_seed(0)
    poses, visible = coco_poses(6, size=256, seed=3)
    _write_coco_set(tmp_path / 'coco', poses, visible)

    stage1_dir = tmp_path / 'stage1'
    stage1 = tiny_pct_config(tmp_path, stage='tokenizer', guide_ratio=0.5,
                             extra=_data_overrides(tmp_path / 'coco', stage1_dir))
    runner = _run(stage1)
    metrics = runner.val_loop.run()  # ground-truth reconstruction through the tokenizer
    assert 'coco/AP' in metrics and 0.0 <= metrics['coco/AP'] <= 1.0
    checkpoint = stage1_dir / 'epoch_1.pth'
    assert checkpoint.is_file()
    stage1_codebook = torch.load(checkpoint, map_location='cpu', weights_only=False)[
        'state_dict']['head.tokenizer.quantizer.codebook']

    stage2_dir = tmp_path / 'stage2'
    stage2 = tiny_pct_config(tmp_path, stage='classifier', guide_ratio=0.5,
                             tokenizer_checkpoint=str(checkpoint),
                             extra=_data_overrides(tmp_path / 'coco', stage2_dir))
    runner = _run(stage2)
    model = runner.model
    # the stage-1 tokenizer was loaded and stayed frozen through training
    assert torch.equal(model.head.tokenizer.quantizer.codebook, stage1_codebook)
    hub = runner.message_hub
    assert np.isfinite(hub.get_scalar('train/loss_token').current())
    assert np.isfinite(hub.get_scalar('train/loss_kpt').current())
    assert 0.0 <= hub.get_scalar('val/coco/AP').current() <= 1.0
