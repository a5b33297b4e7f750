"""``make quickstart``: the synthetic world → heatmap pretraining of the image backbone
(as the real configs start from COCO heatmap models) → PCT stage 1 → PCT stage 2 →
PostoMETRO-S with pose tokens, the same model without them and the oracle with ground-truth
keypoint tokens (equal budgets); beside them the world mesh's connection hierarchy →
Mesh-VQ-VAE → VQ-HPS (a quarter of their iterations) → ``tools/test.py`` on ``test`` and ``test_occluded`` (the
Mesh-VQ-VAE's reconstructions on ``test``) → the references without an image model (constant
meshes, lifting by ridge regression and by an MLP) → ``report.md``.

Training and evaluation run the repository's ``tools/train.py`` and ``tools/test.py`` on the
configs in ``configs/quickstart/`` (the report lists every command), two at a time when they do
not depend on each other. Layout of the work folder::

    world/                       the synthetic world (postometro_mm.quickstart.world)
    mesh_hierarchy/              the Mesh-VQ-VAE's connection files for the world's mesh
    <config name>/               work dir of each training (checkpoint, logs,
                                 <timestamp>/vis_data/scalars.json, quickstart_stage.json)
    eval/<model>_<split>/        tools/test.py: metrics.json, mesh_metric_per_sample.npz
    eval/mean_mesh_baseline/     metrics of the mean training mesh (metrics.json), of the
                                 mean pose facing the camera (facing_camera_metrics.json), of
                                 the ridge lifting (lifting_metrics.json) and of the MLP
                                 lifting (mlp_lifting_metrics.json)
    report.md, results.json      the report and its numbers
    training_curves.png, overlays_<split>.png
"""
import json
import os
import os.path as osp
import time
from typing import Any, Dict, Optional, Sequence

from .budget import (BASELINE, BUDGETS, CONFIG_DIR, CONFIGS, EVAL_SPLITS, MESH_AUTOENCODER,
                     MESH_HIERARCHY, OCCLUDED_SUFFIX, ORACLE, TRAINED_MESH_MODELS,
                     WORLD_IMAGE_SIZE, shortened_training)
from .stages import (QUICKSTART_DIR_ENV, Stage, StagePlan, StageResult, StageRunner, ToolCall,
                     format_seconds, repo_root, resolved_config)

TITLES = dict(
    world='Synthetic world',
    resnet_heatmap='Heatmap pretraining of the ResNet (mesh models, PCT)',
    pct_tokenizer='PCT stage 1: pose tokenizer',
    pct_classifier='PCT stage 2: token classifier',
    postometro='PostoMETRO-S with pose tokens',
    fastmetro='Same model without pose tokens (equal budget)',
    oracle='Oracle: PostoMETRO-S with ground-truth 2D keypoint tokens (equal budget)',
    mesh_hierarchy='Connection hierarchy of the world\'s body mesh (Mesh-VQ-VAE)',
    mesh_vqvae='Mesh-VQ-VAE on the world\'s training meshes (VQ-HPS\'s mesh tokenizer)',
    vqhps='VQ-HPS: mesh tokens from the image (a quarter of the iterations)',
)
#: How the evaluation stages name each model.
MODEL_NAMES = dict(postometro='PostoMETRO-S', fastmetro='the model without pose tokens',
                   oracle='the oracle', vqhps='VQ-HPS',
                   mesh_vqvae='the Mesh-VQ-VAE\'s reconstructions')


def config_path(key: str, split: str = 'test') -> str:
    """Repository-relative config of a stage (the occluded-split test config with
    ``split='test_occluded'``)."""
    suffix = OCCLUDED_SUFFIX if split == 'test_occluded' else ''
    return f'{CONFIG_DIR}/{CONFIGS[key]}{suffix}.py'


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint mmengine's CheckpointHook saved last in ``work_dir``."""
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        raise FileNotFoundError(f'{work_dir} has no last_checkpoint: the training saved no '
                                'checkpoint')
    with open(record) as f:
        path = f.read().strip()
    return path if osp.isabs(path) else osp.join(repo_root(), path)


class QuickstartPipeline:
    """The quickstart's stage graph (module docstring) for one mode.

    Args:
        work_dir: output folder.
        mode: ``'full'`` or ``'quick'`` (:data:`~.budget.BUDGETS`).
        force: rerun every stage.
        verbose: stream the tools' logs instead of progress bars.
        jobs: trainings / evaluations that may run at the same time.
        threads: intra-op threads of each training / test process.
    """

    def __init__(self, work_dir: str, mode: str = 'full', force: bool = False,
                 verbose: bool = False, jobs: int = 2, threads: int = 1) -> None:
        if mode not in BUDGETS:
            raise ValueError(f'mode must be one of {sorted(BUDGETS)}, got {mode!r}')
        self.work_dir = osp.abspath(work_dir)
        if any(c.isspace() for c in self.work_dir):
            raise ValueError(f'work dir "{self.work_dir}" contains whitespace; the tools receive '
                             'its paths through --cfg-options, which cannot carry it')
        self.budget = BUDGETS[mode]
        self.runner = StageRunner(self.work_dir, force=force, verbose=verbose, jobs=jobs,
                                  threads=threads)

    # ------------------------------------------------------------------ stage plans
    def _resolved(self, config: str, options: Dict[str, Any]) -> dict:
        return resolved_config(osp.join(repo_root(), config), options, self.work_dir)

    def _budget_options(self, name: str) -> Dict[str, Any]:
        """``--cfg-options`` that give training ``name`` this mode's length (none when the
        mode keeps its config's)."""
        iters = self.budget.max_iters.get(name)
        if iters is None:
            return {}
        return shortened_training(self._resolved(config_path(name), {}), iters)

    def _train(self, name: str, checkpoints: Dict[str, str], after: Sequence[str] = ()) -> Stage:
        """A ``tools/train.py`` stage; ``checkpoints`` maps a config key to the upstream
        stage whose checkpoint it receives; ``after``: other stages that write files its
        config reads."""
        def plan(results: Dict[str, StageResult]) -> StagePlan:
            config = config_path(name)
            stage_dir = osp.join(self.work_dir, CONFIGS[name])
            options = {key: results[up].outputs['checkpoint_file']
                       for key, up in checkpoints.items()}
            options.update(self._budget_options(name))
            call = ToolCall('train', config, ['--work-dir', stage_dir], options)
            resolved = self._resolved(config, options)
            loader = resolved['train_dataloader']
            return StagePlan(
                stage_dir=stage_dir, key=dict(argv=call.argv(), config=resolved),
                tool=call, log_file=osp.join(stage_dir, 'quickstart_train.log'),
                finish=lambda: dict(checkpoint_file=last_checkpoint(stage_dir),
                                    work_dir=stage_dir, config=config,
                                    max_iters=resolved['train_cfg']['max_iters'],
                                    batch_size=loader['batch_size']),
                commands=[call.display(self.work_dir)])

        deps = ['world', *dict.fromkeys([*checkpoints.values(), *after])]
        return Stage(name, TITLES[name], deps, plan)

    def _test(self, model: str, split: str) -> Stage:
        """A ``tools/test.py`` stage; mesh models also write MeshMetric's per-sample errors
        (the Mesh-VQ-VAE's metric has none)."""
        def plan(results: Dict[str, StageResult]) -> StagePlan:
            config = config_path(model, split)
            out_dir = osp.join(self.work_dir, 'eval', f'{model}_{split}')
            files = dict(metrics_file=osp.join(out_dir, 'metrics.json'))
            options = {}
            if model != MESH_AUTOENCODER:
                files['per_sample_file'] = osp.join(out_dir, 'mesh_metric_per_sample.npz')
                options['test_evaluator.outfile_prefix'] = osp.join(out_dir, 'mesh_metric')
            call = ToolCall('test', config, [
                results[model].outputs['checkpoint_file'], '--work-dir', out_dir, '--out',
                files['metrics_file']], options)
            return StagePlan(
                stage_dir=out_dir, key=dict(argv=call.argv(),
                                            config=self._resolved(config, options)),
                tool=call, log_file=osp.join(out_dir, 'quickstart_test.log'),
                finish=lambda: dict(files, config=config),
                commands=[call.display(self.work_dir)])

        return Stage(f'{model}_{split}', f'Evaluate {MODEL_NAMES[model]} on {split} (tools/test.py)',
                     [model], plan)

    def _world(self) -> Stage:
        budget = self.budget
        world_dir = osp.join(self.work_dir, 'world')
        counts = dict(num_train=budget.num_train, num_test=budget.num_test,
                      num_test_occluded=budget.num_test_occluded)

        def work() -> Dict[str, Any]:
            import torch
            from .world import generate_world
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # per-image body-model calls: one thread is fastest
            try:
                result = generate_world(world_dir, image_size=WORLD_IMAGE_SIZE, force=True,
                                        progress=not self.runner.verbose, **counts)
            finally:
                torch.set_num_threads(threads)
            with open(result['manifest']) as f:
                args = json.load(f)['args']
            return dict(manifest_file=result['manifest'], world_dir=world_dir,
                        counts=result['counts'], args=args,
                        visibility={k: v['visibility'] for k, v in result['splits'].items()})

        title = (f'{TITLES["world"]} ({budget.num_train} train / {budget.num_test} test / '
                 f'{budget.num_test_occluded} test_occluded images)')
        # generate_world reuses the splits it finished with the same arguments itself.
        return Stage('world', title, [], lambda results: StagePlan(
            stage_dir=world_dir, key=dict(counts, image_size=WORLD_IMAGE_SIZE), work=work,
            clean=False, self_reusing=True))

    def _mesh_hierarchy(self) -> Stage:
        """The Mesh-VQ-VAE's connection files for the world's body mesh, at the sizes of
        ``world_mesh_hierarchy_sizes`` in the quickstart world config."""
        config = config_path(MESH_AUTOENCODER)

        def plan(results: Dict[str, StageResult]) -> StagePlan:
            resolved = self._resolved(config, {})
            out_dir = resolved['world_mesh_hierarchy_dir']
            sizes = [int(n) for n in resolved['world_mesh_hierarchy_sizes']]
            mesh = osp.join(results['world'].outputs['world_dir'], 'body_model',
                            'SMPL_NEUTRAL.npz')

            def work() -> Dict[str, Any]:
                import numpy as np
                from postometro_mm.body_models import load_smpl_model_file
                from postometro_mm.body_models.connection_hierarchy import \
                    write_connection_hierarchy
                model = load_smpl_model_file(mesh)
                if len(model['v_template']) != sizes[0]:
                    raise ValueError(
                        f'{mesh} has {len(model["v_template"])} vertices, but '
                        f'{CONFIG_DIR}/_base_/quickstart_world.py sets world_num_vertices = '
                        f'{sizes[0]}: update it to the world\'s body model')
                write_connection_hierarchy(np.asarray(model['f'], np.int64), sizes, out_dir,
                                           overwrite=True)
                return dict(connection_dir=out_dir, num_vertices=sizes)

            command = (f'python tools/misc/mesh_connection_hierarchy.py {mesh} {out_dir} '
                       f'--num-vertices {" ".join(map(str, sizes))} --force')
            return StagePlan(stage_dir=out_dir, key=dict(sizes=sizes, mesh=mesh), work=work,
                             commands=[command])

        return Stage(MESH_HIERARCHY, TITLES[MESH_HIERARCHY], ['world'], plan)

    def _baseline(self) -> Stage:
        def plan(results: Dict[str, StageResult]) -> StagePlan:
            out_dir = osp.join(self.work_dir, 'eval', BASELINE)
            files = dict(metrics_file=osp.join(out_dir, 'metrics.json'),
                         facing_camera_metrics_file=osp.join(out_dir,
                                                             'facing_camera_metrics.json'),
                         lifting_metrics_file=osp.join(out_dir, 'lifting_metrics.json'),
                         mlp_lifting_metrics_file=osp.join(out_dir,
                                                           'mlp_lifting_metrics.json'))
            configs = {split: config_path('postometro', split) for split in EVAL_SPLITS}
            # The learned lifting trains at the oracle's budget and recipe.
            oracle_config = config_path(ORACLE)
            oracle_options = self._budget_options(ORACLE)

            def work() -> Dict[str, Any]:
                from mmengine.config import Config
                from mmengine.registry import init_default_scope
                from .baseline import (FACING_CAMERA, evaluate_meshes, fit_lifting_mlp,
                                       lifting_baseline, mean_training_mesh,
                                       mlp_lifting_baseline)
                os.environ[QUICKSTART_DIR_ENV] = self.work_dir
                init_default_scope('mmpose')
                cfgs = [Config.fromfile(osp.join(repo_root(), c)) for c in configs.values()]
                oracle_cfg = Config.fromfile(osp.join(repo_root(), oracle_config))
                oracle_cfg.merge_from_dict(oracle_options)
                mlp = fit_lifting_mlp(oracle_cfg)
                meshes = dict(metrics_file=lambda cfg: mean_training_mesh(cfgs[0]),
                              facing_camera_metrics_file=lambda cfg: mean_training_mesh(
                                  cfgs[0], global_orient=FACING_CAMERA),
                              lifting_metrics_file=lifting_baseline,
                              mlp_lifting_metrics_file=lambda cfg: mlp_lifting_baseline(
                                  mlp, cfg))
                for key, predict in meshes.items():
                    metrics = {}
                    for cfg in cfgs:
                        metrics.update(evaluate_meshes(cfg, predict(cfg)))
                    with open(files[key], 'w') as f:
                        json.dump(metrics, f, indent=2)
                return files

            # The files it writes are part of the key: a new reference reruns the stage.
            key = dict(configs={s: self._resolved(c, {}) for s, c in configs.items()},
                       oracle=self._resolved(oracle_config, oracle_options),
                       outputs=sorted(files))
            return StagePlan(stage_dir=out_dir, key=key, work=work)

        return Stage(BASELINE, 'References without an image model (mean meshes, lifting '
                     'from ground-truth 2D keypoints by ridge regression and by an MLP)',
                     ['world'], plan)

    def stages(self) -> list:
        """The stage graph, in start order (critical path first)."""
        pct_backbone = 'model.backbone.init_cfg.checkpoint'
        return [
            self._world(),
            # in-process and short: it runs before the first tool starts (in-process stages
            # wait for a moment without tools)
            self._mesh_hierarchy(),
            self._train('resnet_heatmap', {}),
            self._train('pct_tokenizer', {}),
            self._train('pct_classifier', {
                pct_backbone: 'resnet_heatmap',
                'model.head.tokenizer.init_cfg.checkpoint': 'pct_tokenizer'}),
            self._train('postometro', {
                pct_backbone: 'resnet_heatmap',
                'model.pose_tokenizer.init_cfg.checkpoint': 'pct_classifier'}),
            self._train(MESH_AUTOENCODER, {}, after=[MESH_HIERARCHY]),
            self._train('fastmetro', {pct_backbone: 'resnet_heatmap'}),
            self._train('oracle', {pct_backbone: 'resnet_heatmap'}),
            self._train('vqhps', {
                pct_backbone: 'resnet_heatmap',
                'model.rotation_backbone.init_cfg.checkpoint': 'resnet_heatmap',
                'model.head.mesh_tokenizer.init_cfg.checkpoint': MESH_AUTOENCODER}),
            *[self._test(model, split) for model in TRAINED_MESH_MODELS
              for split in EVAL_SPLITS],
            self._test(MESH_AUTOENCODER, 'test'),
            self._baseline(),
        ]

    # ------------------------------------------------------------------ run
    def run(self) -> Dict[str, Any]:
        """Run every stage and write the report; returns ``report`` (path), ``results``
        (its numbers) and ``seconds``."""
        from .report import write_report
        say = self.runner.say
        budget = self.budget
        say(f'postometro_mm quickstart, {budget.name} mode (designed for about '
            f'{budget.minutes:g} min on 2 CPU cores) -> {self.work_dir}')
        results = self.runner.run_all(self.stages())
        say(f'Report: metric table, training curves, overlays  (elapsed '
            f'{self.runner.elapsed()})')
        total = time.time() - self.runner.start
        report = write_report(self.work_dir, budget, results, total_seconds=total)
        total = time.time() - self.runner.start
        say(f'Quickstart finished in {format_seconds(total)}. Report: {report["report_file"]}')
        return dict(report=report['report_file'], results=report['results'], seconds=total)


def run_quickstart(work_dir: str, mode: str = 'full', force: bool = False,
                   verbose: bool = False, jobs: int = 2,
                   threads: Optional[int] = None) -> Dict[str, Any]:
    """Run the quickstart (see :class:`QuickstartPipeline`)."""
    return QuickstartPipeline(work_dir, mode, force=force, verbose=verbose, jobs=jobs,
                              threads=threads or 1).run()
