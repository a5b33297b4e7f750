"""The quickstart's report: metric table, pose-token verdict, training curves and overlays of
predicted vs ground-truth meshes, all computed from the files the run wrote."""
import contextlib
import glob
import io
import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .budget import (BASELINE, CONFIG_DIR, CONFIGS, EVAL_SPLITS, FACING_REFERENCE,
                     LEARNED_LIFTING_REFERENCE, LIFTING_REFERENCE, MESH_AUTOENCODER,
                     MESH_MODELS, ORACLE, REFERENCES, TRAINED_MESH_MODELS, TRAININGS, VQHPS,
                     QuickstartBudget)
from .stages import QUICKSTART_DIR_ENV, StageResult, format_seconds, repo_root

MODEL_LABELS = {
    'mean_mesh_baseline': 'Mean training mesh (untrained baseline)',
    'mean_pose_facing_camera': 'Mean training pose, facing the camera (constant)',
    'postometro': 'PostoMETRO-S, with PCT pose tokens',
    'fastmetro': 'Same model without pose tokens (FastMETRO-S)',
    'lifting_baseline': 'Lifting baseline: ridge regression from ground-truth 2D keypoints',
    'mlp_lifting_baseline': 'Learned lifting baseline: MLP from ground-truth 2D keypoints, '
                            'trained at the oracle\'s budget',
    'oracle': 'Oracle: PostoMETRO-S with ground-truth 2D keypoint tokens',
    'vqhps': 'VQ-HPS (Mesh-VQ-VAE tokens)',
}
#: The PA-MPJPE ratio to the facing-camera constant below which a model clearly learned
#: posture (not only the facing direction).
LEARNED_POSTURE_RATIO = 0.85
PANEL_LABELS = {'postometro': 'PostoMETRO-S', 'fastmetro': 'no pose tokens', 'vqhps': 'VQ-HPS'}
#: The models drawn in the overlays.
OVERLAY_MODELS = (*MESH_MODELS, VQHPS)
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
        if len(parts) == 2 and parts[0] in EVAL_SPLITS and parts[1] in METRICS:
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
_MESH_CURVES = [('postometro', 'with pose tokens'), ('fastmetro', 'without pose tokens'),
                (ORACLE, 'ground-truth keypoint tokens')]


def plot_curves(stage_dirs: Dict[str, str], out_file: str) -> str:
    """Training curves of the quickstart's trainings as one PNG (matplotlib, Agg)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    records = {name: scalars(path) for name, path in stage_dirs.items()}
    panels = [
        ('Heatmap pretraining (PCK of the heatmaps)', 'acc_pose', False,
         [('resnet_heatmap', 'ResNet (mesh models, PCT)')]),
        ('PCT stage 1: keypoint loss (px)', 'loss_kpt', True, [('pct_tokenizer', 'tokenizer')]),
        ('PCT stage 2: token cross-entropy', 'loss_token', True,
         [('pct_classifier', 'classifier')]),
        ('Mesh models: total loss', 'loss', True, _MESH_CURVES),
        ('Mesh models: vertex loss', 'loss_vertices', True, _MESH_CURVES),
        ('Mesh-VQ-VAE: reconstruction error (m)', 'loss_v2v', True,
         [(MESH_AUTOENCODER, 'mean vertex error')]),
        ('VQ-HPS: token accuracy', 'acc_tokens', False, [(VQHPS, 'training batches')]),
    ]
    columns = 4
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.6 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis('off')
    for ax, (title, key, log, curves) in zip(axes.flat, panels):
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
    with contextlib.redirect_stdout(io.StringIO()):  # mmengine prints each checkpoint load
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
    header = '| model | ' + ' | '.join(f'{s} {m}' for s in EVAL_SPLITS for m in METRICS) + ' |'
    lines = [header, '|' + '---|' * (1 + len(EVAL_SPLITS) * len(METRICS))]
    for model in (*REFERENCES, *TRAINED_MESH_MODELS):
        cells = [_fmt(metrics[model].get(s, {}).get(m)) for s in EVAL_SPLITS for m in METRICS]
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


STAGE_DESCRIPTIONS = {
    'world': 'synthetic world (images, SPIN-style npz, 3DPW files)',
    'resnet_heatmap': 'ResNet-18/4 heatmap pretraining (the backbone of the mesh models and PCT)',
    'pct_tokenizer': 'PCT stage 1: pose tokenizer',
    'pct_classifier': 'PCT stage 2: token classifier (frozen backbone and tokenizer)',
    'postometro': 'PostoMETRO-S with pose tokens',
    'fastmetro': 'same model without pose tokens',
    'postometro_test': 'tools/test.py, PostoMETRO-S on test',
    'postometro_test_occluded': 'tools/test.py, PostoMETRO-S on test_occluded',
    'fastmetro_test': 'tools/test.py, no pose tokens on test',
    'fastmetro_test_occluded': 'tools/test.py, no pose tokens on test_occluded',
    'oracle': 'oracle: PostoMETRO-S with ground-truth keypoint tokens',
    'oracle_test': 'tools/test.py, oracle on test',
    'oracle_test_occluded': 'tools/test.py, oracle on test_occluded',
    'mesh_hierarchy': 'connection hierarchy of the world mesh (Mesh-VQ-VAE)',
    'mesh_vqvae': 'Mesh-VQ-VAE on the training meshes',
    'mesh_vqvae_test': 'tools/test.py, Mesh-VQ-VAE reconstructions of the test meshes',
    'vqhps': 'VQ-HPS (mesh tokens of the Mesh-VQ-VAE)',
    'vqhps_test': 'tools/test.py, VQ-HPS on test',
    'vqhps_test_occluded': 'tools/test.py, VQ-HPS on test_occluded',
    'mean_mesh_baseline': 'constant meshes (mean training mesh / pose) and the lifting ridge '
                          'regression through the test metric',
}


def collect_results(work_dir: str, budget: QuickstartBudget, stages: Dict[str, StageResult],
                    total_seconds: float) -> Dict[str, Any]:
    """The numbers of the report, read from the files the stages wrote."""
    baseline_files = stages[BASELINE].outputs
    metrics = {BASELINE: read_metrics(baseline_files['metrics_file']),
               FACING_REFERENCE: read_metrics(baseline_files['facing_camera_metrics_file']),
               LIFTING_REFERENCE: read_metrics(baseline_files['lifting_metrics_file']),
               LEARNED_LIFTING_REFERENCE: read_metrics(
                   baseline_files['mlp_lifting_metrics_file'])}
    per_sample = {}
    for model in TRAINED_MESH_MODELS:
        metrics[model], per_sample[model] = {}, {}
        for split in EVAL_SPLITS:
            outputs = stages[f'{model}_{split}'].outputs
            metrics[model].update(read_metrics(outputs['metrics_file']))
            per_sample[model][split] = per_sample_pa_mpjpe(outputs['per_sample_file'])
    train_dirs = {name: stages[name].outputs['work_dir'] for name in TRAININGS}
    with open(stages[f'{MESH_AUTOENCODER}_test'].outputs['metrics_file']) as f:
        reconstruction = json.load(f)
    return dict(
        mode=budget.name, total_seconds=total_seconds, metrics=metrics,
        pa_mpjpe_ratio_to_baseline={
            m: {s: metrics[m][s]['PA-MPJPE'] / metrics[BASELINE][s]['PA-MPJPE']
                for s in EVAL_SPLITS} for m in TRAINED_MESH_MODELS},
        pa_mpjpe_ratio_to_facing_camera={
            m: {s: metrics[m][s]['PA-MPJPE'] / metrics[FACING_REFERENCE][s]['PA-MPJPE']
                for s in EVAL_SPLITS}
            for m in (*TRAINED_MESH_MODELS, LIFTING_REFERENCE, LEARNED_LIFTING_REFERENCE)},
        pose_tokens={s: paired_difference(per_sample['fastmetro'][s],
                                          per_sample['postometro'][s]) for s in EVAL_SPLITS},
        pct_2d={name: {key: last_value(scalars(train_dirs[name]), key)
                       for key in ('PCK', 'EPE')}
                for name in ('pct_tokenizer', 'pct_classifier')},
        heatmap_acc=last_value(scalars(train_dirs['resnet_heatmap']), 'acc_pose'),
        mesh_vqvae={key: float(reconstruction[f'test/{key}']) for key in ('V2V', 'PA-V2V')},
        vqhps_token_accuracy=last_value(scalars(train_dirs[VQHPS]), 'acc_tokens'),
        world=stages['world'].outputs['counts'],
        stages={name: dict(seconds=r.seconds, reused=r.reused,
                           max_iters=r.outputs.get('max_iters'),
                           batch_size=r.outputs.get('batch_size'))
                for name, r in stages.items()},
        per_sample=per_sample)


def write_report(work_dir: str, budget: QuickstartBudget, stages: Dict[str, StageResult],
                 total_seconds: float) -> Dict[str, Any]:
    """Write ``report.md``, ``results.json``, ``training_curves.png`` and
    ``overlays_<split>.png`` into ``work_dir`` from the stages' outputs.

    Returns:
        dict: ``report_file`` and ``results`` (the numbers of ``results.json``).
    """
    results = collect_results(work_dir, budget, stages, total_seconds)
    per_sample = results.pop('per_sample')
    plot_curves({name: stages[name].outputs['work_dir'] for name in TRAININGS},
                osp.join(work_dir, 'training_curves.png'))
    os.environ[QUICKSTART_DIR_ENV] = work_dir  # the configs' paths
    models = {m: (osp.join(repo_root(), stages[m].outputs['config']),
                  stages[m].outputs['checkpoint_file']) for m in OVERLAY_MODELS}
    for split in EVAL_SPLITS:
        draw_overlays(split, stages['world'].outputs['world_dir'], models,
                      {m: per_sample[m][split] for m in OVERLAY_MODELS}, budget.num_overlays,
                      osp.join(work_dir, f'overlays_{split}.png'))
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    report_file = osp.join(work_dir, 'report.md')
    with open(report_file, 'w') as f:
        f.write('\n'.join(_report_lines(results, budget, stages)))
    return dict(report_file=report_file, results=results)


def _report_lines(results: Dict[str, Any], budget: QuickstartBudget,
                  stages: Dict[str, StageResult]) -> List[str]:
    metrics, ratios = results['metrics'], results['pa_mpjpe_ratio_to_baseline']
    world = results['world']
    mesh_iters = results['stages']['postometro']['max_iters']
    reused = any(r.reused for r in stages.values())
    lines = [
        f'# postometro_mm quickstart report ({budget.name} mode)', '',
        'Produced by `tools/quickstart.py` in '
        f'{format_seconds(results["total_seconds"])}'
        + (' (stages finished earlier were reused)' if reused else '') + ': a synthetic world '
        f'of {world["train"]} training, {world["test"]} test and {world["test_occluded"]} '
        'heavily occluded test images; heatmap pretraining of the image backbone (the real '
        'configs start from COCO heatmap models); PCT in two stages on a frozen copy of it; '
        'PostoMETRO-S with its '
        'pose tokens, the same model without them, an oracle fed the ground-truth 2D '
        f'keypoints as its pose tokens, {mesh_iters} iterations each, and VQ-HPS on a '
        'Mesh-VQ-VAE of the world\'s meshes, '
        f'{results["stages"][VQHPS]["max_iters"]} iterations; all four evaluated by '
        '`tools/test.py` with '
        '`MeshMetric` (protocol A), beside references without an image model (mean meshes, '
        'lifting of the ground-truth 2D keypoints by a ridge regression and by an MLP trained '
        'at the oracle\'s budget).', '',
    ]
    if budget.name == 'quick':
        lines += ['**Quick mode** (what the test suite runs): a smaller world and shorter '
                  'trainings than `make quickstart`, so its numbers are noisier (one seed, '
                  f'{world["test"]} images per test split).', '']
    lines += ['## Metrics (mm, lower is better)', '', *_metric_table(metrics), '',
              *_reference_paragraphs(metrics, ratios),
              *_learning_paragraphs(metrics, results['pa_mpjpe_ratio_to_facing_camera']),
              *_vqhps_paragraphs(results),
              '## Did the pose tokens help?', '']
    for split in EVAL_SPLITS:
        lines += [_verdict_sentence(split, results['pose_tokens'][split],
                                    metrics['postometro'][split]['PA-MPJPE'],
                                    metrics['fastmetro'][split]['PA-MPJPE']), '']
    lines += ['One training run per model (seed 0): the interval covers the test images, not '
              'the run-to-run variation of training. Pose tokens carry what the quickstart\'s '
              'small PCT sees: ' + _pct_sentence(results), '',
              '## Training curves', '', '![training curves](training_curves.png)', '',
              '## Predictions vs ground truth', '',
              'Each row: the input, the ground-truth mesh (true camera), and each model\'s mesh '
              'from the inference API (`init_model` / `inference_mesh`) with the image\'s '
              'PA-MPJPE. The images are evenly spaced over the split, not picked.', '']
    for split in EVAL_SPLITS:
        lines += [f'`{split}`:', '', f'![{split} overlays](overlays_{split}.png)', '']
    lines += ['## Stages', '', '| stage | what | iterations x batch | time |',
              '|---|---|---|---|']
    for name, info in results['stages'].items():
        size = (f'{info["max_iters"]} x {info["batch_size"]}' if info['max_iters'] else '')
        time_text = format_seconds(info['seconds']) + (' (reused)' if info['reused'] else '')
        lines.append(f'| {name} | {STAGE_DESCRIPTIONS.get(name, "")} | {size} | '
                     f'{time_text} |')
    lines += ['', 'Commands (from the repository root):', '', '```',
              *[c for r in stages.values() for c in r.commands], '```', '']
    return lines


def _reference_paragraphs(metrics: Dict[str, Dict[str, Dict[str, float]]],
                          ratios: Dict[str, Dict[str, float]]) -> List[str]:
    """What the two constant rows mean, and how the trained models compare with each."""
    ratio_text = '; '.join(f'{PANEL_LABELS[m]} {ratios[m]["test"]:.2f} (test), '
                           f'{ratios[m]["test_occluded"]:.2f} (test_occluded)'
                           for m in MESH_MODELS)
    comparisons = []
    for split in EVAL_SPLITS:
        posto = metrics['postometro'][split]['PA-MPJPE']
        facing = metrics[FACING_REFERENCE][split]['PA-MPJPE']
        side = 'below' if posto < facing else 'not below'
        comparisons.append(f'{side} it on `{split}` ({posto:.1f} vs {facing:.1f} mm)')
    return [
        'The baseline predicts the mean root-relative training mesh for every image: what a '
        'mesh model outputs before it reads the image (the constant that minimises its '
        'training losses). PA-MPJPE of the trained models relative to it: '
        f'{ratio_text}.', '',
        'The world\'s people face every direction, so that mean blurs front and back views '
        'into one body. The second constant, the mean training pose turned to face the camera, '
        'keeps a body\'s shape, and Procrustes alignment forgives its orientation: it is the '
        'harder reference for the PA columns (a model that read only the facing direction would '
        f'score about as well). PostoMETRO-S is {" and ".join(comparisons)}.', '']


def _learning_paragraphs(metrics: Dict[str, Dict[str, Dict[str, float]]],
                         facing_ratios: Dict[str, Dict[str, float]]) -> List[str]:
    """Whether the models learned posture: each against the facing-camera constant, and the
    oracle against the two liftings of the same ground-truth keypoints (ridge regression, MLP
    at the oracle's budget)."""
    def ratios(model: str) -> str:
        return ', '.join(f'{facing_ratios[model][s]:.2f} on `{s}`' for s in EVAL_SPLITS)

    learned = [m for m in TRAINED_MESH_MODELS
               if all(facing_ratios[m][s] <= LEARNED_POSTURE_RATIO for s in EVAL_SPLITS)]
    names = {'postometro': 'PostoMETRO-S', 'fastmetro': 'the model without pose tokens',
             ORACLE: 'the oracle', VQHPS: 'VQ-HPS'}
    def oracle_vs(reference: str) -> str:
        return '; '.join(f'{metrics[ORACLE][s]["PA-MPJPE"]:.1f} vs '
                         f'{metrics[reference][s]["PA-MPJPE"]:.1f} mm on `{s}`'
                         for s in EVAL_SPLITS)

    as_fast = [s for s in EVAL_SPLITS if metrics[ORACLE][s]['PA-MPJPE']
               <= metrics[LEARNED_LIFTING_REFERENCE][s]['PA-MPJPE']]
    verdict = ('at or below it on ' + ' and '.join(f'`{s}`' for s in as_fast) if as_fast
               else 'above it on both splits')
    return [
        '## Did the models learn posture?', '',
        'A model that reads only which way a person faces scores about as well as the '
        'facing-camera constant on PA-MPJPE; one that learned posture is clearly below it. '
        f'PA-MPJPE relative to that constant (≤ {LEARNED_POSTURE_RATIO} = posture learned): '
        + '; '.join(f'{names[m]} {ratios(m)}' for m in TRAINED_MESH_MODELS)
        + f'; the ridge lifting {ratios(LIFTING_REFERENCE)}; the MLP lifting '
        + f'{ratios(LEARNED_LIFTING_REFERENCE)}. '
        + ('Below the line on both splits: '
           + (', '.join(names[m] for m in learned) if learned else 'none of the trained models')
           + '.'), '',
        'The oracle gets the ground-truth 2D keypoints as its pose tokens (training and test) '
        'and trains its decoders\' cross-attention at 10x the learning rate (why: its config, '
        f'`{CONFIG_DIR}/{CONFIGS[ORACLE]}.py`). '
        'Two references read the same keypoints: a ridge regression to the mesh, fitted in '
        'closed form (the best a linear map of them does; learners trained by gradient steps '
        'approach it over thousands of steps), and a two-layer MLP trained at the oracle\'s '
        'budget (its iterations, batch, optimiser and schedule): what a simple learner makes of '
        f'them at the same cost. Oracle vs MLP lifting, PA-MPJPE: '
        f'{oracle_vs(LEARNED_LIFTING_REFERENCE)}: the oracle is {verdict}. Oracle vs ridge '
        f'lifting: {oracle_vs(LIFTING_REFERENCE)}.', '']


def _vqhps_paragraphs(results: Dict[str, Any]) -> List[str]:
    """VQ-HPS against its own floor (the Mesh-VQ-VAE's reconstruction error) and the other
    models."""
    metrics, facing = results['metrics'], results['pa_mpjpe_ratio_to_facing_camera'][VQHPS]
    reconstruction, accuracy = results['mesh_vqvae'], results['vqhps_token_accuracy']
    posto = '; '.join(f'{metrics[VQHPS][s]["PA-MPJPE"]:.1f} vs {metrics["postometro"][s]["PA-MPJPE"]:.1f}'
                      f' mm on `{s}`' for s in EVAL_SPLITS)
    return [
        '## VQ-HPS', '',
        'VQ-HPS classifies each of the Mesh-VQ-VAE\'s mesh tokens from the image and decodes '
        'them with the frozen Mesh-VQ-VAE, then turns the canonical mesh by its predicted '
        'global rotation. The Mesh-VQ-VAE, trained here on the world\'s training meshes, '
        f'reconstructs the test split\'s meshes with a mean vertex error of '
        f'{reconstruction["V2V"]:.1f} mm ({reconstruction["PA-V2V"]:.1f} mm after Procrustes '
        'alignment): the error left if every token were right. VQ-HPS\'s token accuracy on its '
        f'last training batches: {_fmt(_percent(accuracy))} %. PA-MPJPE against PostoMETRO-S: '
        f'{posto}; relative to the facing-camera constant: {facing["test"]:.2f} on `test`, '
        f'{facing["test_occluded"]:.2f} on `test_occluded`.', '']


def _pct_sentence(results: Dict[str, Any]) -> str:
    tok, cls = results['pct_2d']['pct_tokenizer'], results['pct_2d']['pct_classifier']
    return (f'its tokenizer reconstructs the test split\'s ground-truth 2D poses with PCK@0.05 '
            f'{_fmt(_percent(tok["PCK"]))} % (mean error {_fmt(tok["EPE"])} px on 128 px '
            f'crops), its classifier predicts them from the image with PCK@0.05 '
            f'{_fmt(_percent(cls["PCK"]))} % ({_fmt(cls["EPE"])} px).')


def _percent(value: Optional[float]) -> Optional[float]:
    return None if value is None else 100.0 * value
