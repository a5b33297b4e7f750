"""The quickstart's report: metric table, pose-token verdict, training curves and overlays of
predicted vs ground-truth meshes, all computed from the files the run wrote."""
import glob
import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .budget import QuickstartBudget
from .stages import QUICKSTART_DIR_ENV, StageResult, format_seconds, repo_root

MODEL_LABELS = {
    'mean_mesh_baseline': 'Mean training mesh (untrained baseline)',
    'postometro': 'PostoMETRO-S, with PCT pose tokens',
    'fastmetro': 'Same model without pose tokens (FastMETRO-S)',
}
PANEL_LABELS = {'postometro': 'PostoMETRO-S', 'fastmetro': 'no pose tokens'}
SPLITS = ('test', 'test_occluded')
METRICS = ('MPJPE', 'PA-MPJPE', 'MPVPE')
#: |mean paired difference| below this (mm) is "no difference" whatever the interval says.
NEGLIGIBLE_MM = 1.0
_Z95 = 1.959964


# ---------------------------------------------------------------------------- numbers
def read_metrics(metrics_file: str) -> Dict[str, Dict[str, float]]:
    """``{split: {metric: mm}}`` from a ``tools/test.py --out`` / baseline json whose keys
    are ``<split>/<metric>`` (protocol A only)."""
    with open(metrics_file) as f:
        raw = json.load(f)
    table: Dict[str, Dict[str, float]] = {}
    for key, value in raw.items():
        parts = key.split('/')
        if len(parts) == 2 and parts[0] in SPLITS and parts[1] in METRICS:
            table.setdefault(parts[0], {})[parts[1]] = float(value)
    return table


def per_sample_pa_mpjpe(per_sample_file: str) -> Dict[str, float]:
    """``{sample id: PA-MPJPE mm}`` from MeshMetric's ``*_per_sample.npz``."""
    with np.load(per_sample_file) as data:
        errors = np.nanmean(data['A_pa_joint'], axis=1)
        return {str(i): float(e) for i, e in zip(data['id'], errors)}


def paired_difference(reference: Dict[str, float],
                      candidate: Dict[str, float]) -> Dict[str, Any]:
    """Mean of ``reference - candidate`` over the common samples with a normal 95 %
    interval (positive = the candidate is better) and a one-word verdict."""
    ids = sorted(set(reference) & set(candidate))
    diff = np.array([reference[i] - candidate[i] for i in ids])
    mean = float(diff.mean())
    half = float(_Z95 * diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else np.inf
    low, high = mean - half, mean + half
    if abs(mean) < NEGLIGIBLE_MM or low <= 0 <= high:
        verdict = 'no clear difference'
    else:
        verdict = 'helped' if mean > 0 else 'hurt'
    return dict(mean=mean, low=low, high=high, num_samples=len(ids), verdict=verdict)


def scalars(work_dir: str) -> List[Dict[str, Any]]:
    """Records of the newest ``vis_data/scalars.json`` (mmengine's LocalVisBackend) of a
    training work dir."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        return []
    with open(files[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def _series(records: List[Dict[str, Any]], key: str) -> Tuple[np.ndarray, np.ndarray]:
    points = [(r['step'], r[key]) for r in records if key in r and 'step' in r]
    if not points:
        return np.zeros(0), np.zeros(0)
    steps, values = zip(*points)
    return np.asarray(steps), np.asarray(values, dtype=float)


def last_value(records: List[Dict[str, Any]], key: str) -> Optional[float]:
    values = _series(records, key)[1]
    return float(values[-1]) if len(values) else None


# ---------------------------------------------------------------------------- figures
def plot_curves(stage_dirs: Dict[str, str], out_file: str) -> str:
    """Training curves of the quickstart's trainings as one PNG (matplotlib, Agg)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    records = {name: scalars(path) for name, path in stage_dirs.items()}
    panels = [
        ('Heatmap pretraining (PCK of the heatmaps)', 'acc_pose', False,
         [('resnet_heatmap', 'ResNet (mesh models)'), ('swinv2_heatmap', 'SwinV2 (PCT)')]),
        ('PCT stage 1: keypoint loss (px)', 'loss_kpt', True, [('pct_tokenizer', 'tokenizer')]),
        ('PCT stage 2: token cross-entropy', 'loss_token', True,
         [('pct_classifier', 'classifier')]),
        ('Mesh models: total loss', 'loss', True,
         [('postometro', 'with pose tokens'), ('fastmetro', 'without pose tokens')]),
        ('Mesh models: vertex loss', 'loss_vertices', True,
         [('postometro', 'with pose tokens'), ('fastmetro', 'without pose tokens')]),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6))
    for ax, (title, key, log, curves) in zip(axes, panels):
        for name, label in curves:
            steps, values = _series(records.get(name, []), key)
            ax.plot(steps, values, label=label)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel('iteration')
        if log:
            ax.set_yscale('log')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file, dpi=80)
    plt.close(fig)
    return out_file


def _label(image: np.ndarray, text: str) -> np.ndarray:
    import cv2
    out = image.copy()
    for color, width in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42, color, width,
                    cv2.LINE_AA)
    return out


def draw_overlays(split: str, world_dir: str, models: Dict[str, Tuple[str, str]],
                  per_sample: Dict[str, Dict[str, float]], num_images: int, out_file: str,
                  upscale: int = 2) -> str:
    """Rows of [image | ground truth | one panel per model] for ``num_images`` images spread
    evenly over a world split (no picking).

    The ground-truth mesh is drawn with the world's true camera. Each model runs through the
    inference API (:func:`postometro_mm.apis.init_model` / :func:`inference_mesh`) on the
    person's box with the same focal length, and its mesh is drawn at the camera translation
    the API derives from the predicted weak-perspective camera.

    Args:
        split: world split.
        world_dir: the world folder.
        models: ``{model: (config, checkpoint)}``.
        per_sample: ``{model: {sample id: PA-MPJPE mm}}`` printed on each panel.
        num_images: rows.
        out_file: PNG to write.
        upscale: panel size factor over the world's images.
    """
    import cv2
    import torch
    from postometro_mm.apis import inference_mesh, init_model
    from postometro_mm.body_models import GenderedSMPL, gender_to_index
    from postometro_mm.visualization import overlay_render, render_mesh
    split_dir = osp.join(world_dir, split)
    with np.load(osp.join(split_dir, f'quickstart_{split}.npz')) as npz:
        ann = {key: npz[key] for key in npz.files}
    body_model = GenderedSMPL(osp.join(world_dir, 'body_model'))
    faces = body_model.faces
    loaded = {name: init_model(config, checkpoint, device='cpu')
              for name, (config, checkpoint) in models.items()}
    count = len(ann['imgname'])
    picks = np.unique(np.linspace(0, count - 1, num_images + 2)[1:-1].round().astype(int))
    rows = []
    for index in picks:
        path = osp.join(split_dir, str(ann['imgname'][index]))
        image = cv2.imread(path)
        height, width = image.shape[:2]
        shown = cv2.resize(image[..., ::-1], (width * upscale, height * upscale),
                           interpolation=cv2.INTER_LINEAR)
        intrinsics = ann['cam_intrinsics'][index]
        focal = float(intrinsics[0, 0])
        principal = intrinsics[:2, 2] * upscale
        size = shown.shape[:2]

        def draw(vertices: np.ndarray, color: Tuple[int, int, int], text: str) -> np.ndarray:
            render = render_mesh(vertices, faces, size, focal * upscale, principal, color=color)
            return _label(overlay_render(shown, render), text)

        with torch.no_grad():
            gt = body_model(torch.as_tensor(ann['pose'][index][None], dtype=torch.float32),
                            torch.as_tensor(ann['shape'][index][None], dtype=torch.float32),
                            torch.tensor([gender_to_index(str(ann['gender'][index]))]))
        panels = [_label(shown, f'{split} #{index}'),
                  draw(gt[0].double().numpy() + ann['trans'][index], (235, 180, 150),
                       'ground truth')]
        # The annotated box is 1.2x the person; the inference pipeline pads person boxes by
        # 1.2 itself, so give it the person's box to get the evaluation crop.
        side = 200.0 * float(ann['scale'][index]) / 1.2
        box = np.concatenate([ann['center'][index] - side / 2, ann['center'][index] + side / 2])
        for name, model in loaded.items():
            pred = inference_mesh(model, path, bboxes=box[None], focal_length=focal,
                                  decode_pose=False)[0].pred_instances
            vertices = pred.vertices[0].astype(np.float64) + pred.camera_translation[0]
            error = per_sample.get(name, {}).get(str(index))
            text = PANEL_LABELS[name] + ('' if error is None else f'  PA {error:.0f} mm')
            panels.append(draw(vertices, (166, 188, 235), text))
        rows.append(np.concatenate(panels, axis=1))
    cv2.imwrite(out_file, np.concatenate(rows, axis=0)[..., ::-1])
    return out_file


# ---------------------------------------------------------------------------- report
def _fmt(value: Optional[float]) -> str:
    return '–' if value is None else f'{value:.1f}'


def _metric_table(metrics: Dict[str, Dict[str, Dict[str, float]]]) -> List[str]:
    header = '| model | ' + ' | '.join(f'{s} {m}' for s in SPLITS for m in METRICS) + ' |'
    lines = [header, '|' + '---|' * (1 + len(SPLITS) * len(METRICS))]
    for model in ('mean_mesh_baseline', 'postometro', 'fastmetro'):
        cells = [_fmt(metrics[model].get(s, {}).get(m)) for s in SPLITS for m in METRICS]
        lines.append(f'| {MODEL_LABELS[model]} | ' + ' | '.join(cells) + ' |')
    return lines


def _verdict_sentence(split: str, comparison: Dict[str, Any], posto: float,
                      fast: float) -> str:
    what = {'helped': 'helped', 'hurt': 'hurt',
            'no clear difference': 'made no clear difference'}[comparison['verdict']]
    return (f'On `{split}`, PA-MPJPE is {posto:.1f} mm with pose tokens and {fast:.1f} mm '
            f'without: the pose tokens **{what}** at this budget (paired difference over '
            f'{comparison["num_samples"]} images: {comparison["mean"]:+.1f} mm, 95 % interval '
            f'{comparison["low"]:+.1f} to {comparison["high"]:+.1f} mm; positive = better with '
            'tokens).')


def write_report(work_dir: str, budget: QuickstartBudget, stages: Dict[str, StageResult],
                 total_seconds: float) -> Dict[str, Any]:
    """Write ``report.md``, ``results.json``, ``training_curves.png`` and
    ``overlays_<split>.png`` into ``work_dir`` from the stages' outputs.

    Returns:
        dict: ``report_file`` and ``results`` (the numbers of ``results.json``).
    """
    metrics = {'mean_mesh_baseline': read_metrics(
        stages['mean_mesh_baseline'].outputs['metrics_file'])}
    per_sample = {}
    for model in ('postometro', 'fastmetro'):
        metrics[model] = {}
        per_sample[model] = {}
        for split in SPLITS:
            outputs = stages[f'{model}_{split}'].outputs
            metrics[model].update(read_metrics(outputs['metrics_file']))
            per_sample[model][split] = per_sample_pa_mpjpe(outputs['per_sample_file'])
    pose_tokens = {split: paired_difference(per_sample['fastmetro'][split],
                                            per_sample['postometro'][split])
                   for split in SPLITS}
    ratios = {model: {split: metrics[model][split]['PA-MPJPE'] /
                      metrics['mean_mesh_baseline'][split]['PA-MPJPE'] for split in SPLITS}
              for model in ('postometro', 'fastmetro')}

    train_dirs = {name: stages[name].outputs['work_dir']
                  for name in ('resnet_heatmap', 'swinv2_heatmap', 'pct_tokenizer',
                               'pct_classifier', 'postometro', 'fastmetro')}
    pct = {name: {key: last_value(scalars(train_dirs[name]), key) for key in ('PCK', 'EPE')}
           for name in ('pct_tokenizer', 'pct_classifier')}
    curves_file = plot_curves(train_dirs, osp.join(work_dir, 'training_curves.png'))
    world_dir = stages['world'].outputs['world_dir']
    overlay_files = {}
    os.environ[QUICKSTART_DIR_ENV] = work_dir  # the configs' paths
    models = {m: (osp.join(repo_root(), stages[m].outputs['config']),
                  stages[m].outputs['checkpoint_file']) for m in ('postometro', 'fastmetro')}
    for split in SPLITS:
        overlay_files[split] = draw_overlays(
            split, world_dir, models,
            {m: per_sample[m][split] for m in ('postometro', 'fastmetro')},
            budget.num_overlays, osp.join(work_dir, f'overlays_{split}.png'))

    timings = {name: dict(seconds=r.seconds, reused=r.reused) for name, r in stages.items()}
    results = dict(mode=budget.name, total_seconds=total_seconds, metrics=metrics,
                   pa_mpjpe_ratio_to_baseline=ratios, pose_tokens=pose_tokens, pct_2d=pct,
                   world=stages['world'].outputs['counts'], stages=timings,
                   figures=dict(curves=curves_file, overlays=overlay_files))
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)

    lines = [
        f'# postometro_mm quickstart report ({budget.name} mode)', '',
        'Everything below was produced by this run of `tools/quickstart.py`: a synthetic world '
        f'({results["world"]["train"]} training, {results["world"]["test"]} test and '
        f'{results["world"]["test_occluded"]} heavily occluded test images), PCT trained in '
        'two stages, PostoMETRO-S trained with its pose tokens and, with the same budget, '
        'without them, both evaluated by `tools/test.py` with `MeshMetric` (protocol A, mm). '
        f'Total time: {format_seconds(total_seconds)}'
        + (' (finished stages were reused from an earlier run).'
           if any(r.reused for r in stages.values()) else '.'),
        '', '## Metrics (mm, lower is better)', '', *_metric_table(metrics), '',
        'The baseline predicts the mean root-relative training mesh for every image. Trained '
        'PA-MPJPE relative to it: ' + '; '.join(
            f'{MODEL_LABELS[m].split(",")[0]} {ratios[m]["test"]:.2f} (test), '
            f'{ratios[m]["test_occluded"]:.2f} (test_occluded)' for m in ratios) + '.',
        '', '## Did the pose tokens help?', '',
        *[_verdict_sentence(s, pose_tokens[s], metrics['postometro'][s]['PA-MPJPE'],
                            metrics['fastmetro'][s]['PA-MPJPE']) + '\n' for s in SPLITS],
        'One training run per model (seed 0): the interval covers the test images, not the '
        'run-to-run variation of training. The pose tokens can only help as much as the '
        'quickstart\'s small PCT sees the pose: '
        + _pct_sentence(pct), '',
        '## Training curves', '', '![training curves](training_curves.png)', '',
        '## Predictions vs ground truth', '',
        'Each row: the input image, the ground-truth mesh (true camera), and each model\'s '
        'mesh placed by its predicted weak-perspective camera, with the image\'s PA-MPJPE. '
        'Images are evenly spaced over the split, not picked.', '',
        *[f'`{s}`:\n\n![{s} overlays](overlays_{s}.png)\n' for s in SPLITS],
        '## Stages', '', '| stage | time | |', '|---|---|---|',
        *[f'| {name} | {format_seconds(r.seconds)} | {"reused" if r.reused else ""} |'
          for name, r in stages.items()], '',
        'Commands (from the repository root):', '', '```',
        *[c for r in stages.values() for c in r.commands], '```', '',
    ]
    report_file = osp.join(work_dir, 'report.md')
    with open(report_file, 'w') as f:
        f.write('\n'.join(lines))
    return dict(report_file=report_file, results=results)


def _pct_sentence(pct: Dict[str, Dict[str, Optional[float]]]) -> str:
    tok, cls = pct['pct_tokenizer'], pct['pct_classifier']
    return (f'its tokenizer reconstructs the test split\'s ground-truth 2D poses with PCK@0.05 '
            f'{_fmt(_percent(tok["PCK"]))} % (mean error {_fmt(tok["EPE"])} px), and its '
            f'classifier predicts them from the image with PCK@0.05 '
            f'{_fmt(_percent(cls["PCK"]))} % ({_fmt(cls["EPE"])} px) on 128 px crops.')


def _percent(value: Optional[float]) -> Optional[float]:
    return None if value is None else 100.0 * value
