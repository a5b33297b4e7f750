"""`mim train` / `mim test` of the real FastMETRO-S and PostoMETRO-S configs, end to end on CPUs.

The runs use the plugin as ``make env`` / ``make install`` installed it into ``.venv``
(non-editable: mim finds ``tools/`` and ``configs/`` in the package's ``.mim`` folder), on tiny
versions of the configs (``mim_tiny_configs``) and the quickstart world: single-process
training, ``--resume``, two-process training (``--launcher pytorch``, gloo) and evaluation of
one checkpoint with one and with two processes.
"""
import json
import math
import os
import re
import socket
import subprocess
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import torch
from mim_tiny_configs import REPO, TRAIN_BATCH_SIZE, write_tiny_config

VENV_BIN = REPO / '.venv' / 'bin'
NUM_TRAIN = 6
NUM_TEST = 5  # odd: two processes get 3 + 2 samples, so a dropped or doubled one shows
TRAIN_LINE = re.compile(r'Epoch\(train\)\s+\[(\d+)\]\[(\d+)/(\d+)\]')
GLOO = 'env_cfg.dist_cfg.backend=gloo'


def _py_files(root: Path, skip: str = '') -> Dict[Path, Path]:
    return {p.relative_to(root): p for p in root.rglob('*.py')
            if '__pycache__' not in p.parts and (not skip or skip not in p.parts)}


def stale_installed_files(installed: Path) -> List[str]:
    """Python files that differ between the repository and the installed plugin (package,
    and the configs/tools copied into its ``.mim`` folder)."""
    pairs = [(REPO / 'postometro_mm', installed, '.mim'),
             (REPO / 'configs', installed / '.mim' / 'configs', ''),
             (REPO / 'tools', installed / '.mim' / 'tools', '')]
    stale = []
    for src, dst, skip in pairs:
        ours, theirs = _py_files(src, skip), _py_files(dst, skip)
        for rel in sorted(ours.keys() | theirs.keys()):
            if rel not in ours or rel not in theirs or \
                    ours[rel].read_bytes() != theirs[rel].read_bytes():
                stale.append(f'{src.name}/{rel}')
    return stale


@pytest.fixture(scope='module')
def installed_plugin(tmp_path_factory) -> Path:
    """The plugin installed in .venv, identical to the repository's sources."""
    if not (VENV_BIN / 'mim').is_file():
        pytest.fail(f'{VENV_BIN / "mim"} not found: run `make env`')
    # where the venv's python (as mim runs it: outside the repository) imports the plugin from
    installed = Path(subprocess.run(
        [str(VENV_BIN / 'python'), '-c', 'import importlib.util as u; '
         "print(u.find_spec('postometro_mm').submodule_search_locations[0])"],
        cwd=tmp_path_factory.getbasetemp(), env=_subprocess_env(), check=True,
        stdout=subprocess.PIPE, text=True).stdout.strip())
    stale = stale_installed_files(installed)
    if stale:
        pytest.fail(f'the postometro_mm installed in {installed} is stale ({len(stale)} file(s) '
                    f'differ from the repository, e.g. {", ".join(stale[:3])}): run `make env` '
                    '(`make test` does)')
    return installed


@pytest.fixture(scope='module')
def tiny_configs(installed_plugin, synthetic_body_model, tmp_path_factory) -> Dict[str, Path]:
    from postometro_mm.quickstart import generate_world
    root = tmp_path_factory.mktemp('mim_postometro')
    world = generate_world(root / 'world', NUM_TRAIN, NUM_TEST, 1, image_size=64,
                           body_model=synthetic_body_model, progress=False)
    return {variant: write_tiny_config(root, variant, synthetic_body_model, world)
            for variant in ('fastmetro-s', 'postometro-s')}


def _subprocess_env() -> Dict[str, str]:
    """The environment of the subprocesses: the venv first on PATH (mim starts its tools with
    the venv's python), no PYTHONPATH, one thread per process."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(PATH=f'{VENV_BIN}{os.pathsep}{env.get("PATH", "")}', OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1')
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_mim(command: str, config: Path, *args: str, cwd: Path, processes: int = 1,
            expect_failure: bool = False) -> str:
    """Run ``.venv/bin/mim COMMAND postometro_mm CONFIG ARGS`` (``--launcher pytorch`` on
    ``processes`` processes when more than one) and return its output; fail showing the
    output from its first traceback on an error (on success if ``expect_failure``)."""
    launch = () if processes == 1 else ('--gpus', str(processes), '--launcher', 'pytorch',
                                        '--port', str(_free_port()))
    cmd = [str(VENV_BIN / 'mim'), command, 'postometro_mm', str(config), *launch, *args]
    proc = subprocess.run(cmd, cwd=cwd, env=_subprocess_env(), timeout=600,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if expect_failure:
        assert proc.returncode != 0, proc.stdout[-5000:]
        return proc.stdout
    if proc.returncode != 0:
        first_error = max(proc.stdout.find('Traceback'), 0)  # the tool's, before mim's
        pytest.fail(f'`{" ".join(cmd[1:])}` exited with {proc.returncode}:\n'
                    + proc.stdout[first_error:first_error + 5000])
    return proc.stdout


def train_iterations(log: str) -> List[tuple]:
    """(epoch, iteration, iterations per epoch) of every logged training iteration."""
    return [tuple(int(g) for g in m) for m in TRAIN_LINE.findall(log)]


def checkpoint_progress(path: Path) -> tuple:
    """(epoch, iteration, AdamW step count) stored in an mmengine checkpoint."""
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    steps = {float(s['step']) for s in ckpt['optimizer']['state'].values()}
    assert len(steps) == 1, steps
    return ckpt['meta']['epoch'], ckpt['meta']['iter'], steps.pop()


def test_fastmetro_trains_and_resumes(tiny_configs, tmp_path):
    config, work_dir = tiny_configs['fastmetro-s'], tmp_path / 'work'
    iters = math.ceil(NUM_TRAIN / TRAIN_BATCH_SIZE)

    log = run_mim('train', config, '--work-dir', str(work_dir), cwd=tmp_path)
    assert train_iterations(log) == [(1, i, iters) for i in range(1, iters + 1)]
    assert f'MeshMetric (3dpw): {NUM_TEST} samples; {NUM_TEST} with SMPL ground truth' in log
    assert checkpoint_progress(work_dir / 'epoch_1.pth') == (1, iters, iters)
    assert list(work_dir.glob('best_3dpw_PA-MPJPE_epoch_1.pth'))

    log = run_mim('train', config, '--work-dir', str(work_dir), '--resume', '--cfg-options',
                  'train_cfg.max_epochs=2', cwd=tmp_path)
    assert f'resumed epoch: 1, iter: {iters}' in log
    assert train_iterations(log) == [(2, i, iters) for i in range(1, iters + 1)]
    # the optimiser state came back too: AdamW counted the steps of both epochs
    assert checkpoint_progress(work_dir / 'epoch_2.pth') == (2, 2 * iters, 2 * iters)
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('epoch_2.pth')


def _epoch_losses(log: str, epoch: int) -> List[str]:
    """The total losses logged for the iterations of ``epoch``, as printed."""
    return re.findall(rf'Epoch\(train\)\s+\[{epoch}\]\[\s*\d+/\d+\].*?\sloss: (\S+)', log)


def test_resume_repeats_the_uninterrupted_training_exactly(tiny_configs, tmp_path):
    # PostoMETRO-S with the paper's dropout (0.1) and training augmentation, validated after
    # every epoch; "killed" after the epoch-1 checkpoint and resumed from it
    config, two_epochs = tiny_configs['postometro-s'], ('--cfg-options', 'train_cfg.max_epochs=2')
    whole_log = run_mim('train', config, '--work-dir', str(tmp_path / 'whole'), *two_epochs,
                        cwd=tmp_path)
    resumed_log = run_mim('train', config, '--work-dir', str(tmp_path / 'resumed'), '--resume',
                          str(tmp_path / 'whole' / 'epoch_1.pth'), *two_epochs, cwd=tmp_path)
    assert _epoch_losses(resumed_log, 2) == _epoch_losses(whole_log, 2) != []
    assert _epoch_losses(resumed_log, 1) == []
    expected = torch.load(tmp_path / 'whole' / 'epoch_2.pth', weights_only=False)
    resumed = torch.load(tmp_path / 'resumed' / 'epoch_2.pth', weights_only=False)
    assert expected['state_dict'].keys() == resumed['state_dict'].keys()
    for key, value in expected['state_dict'].items():
        assert torch.equal(resumed['state_dict'][key], value), key
    for index, state in expected['optimizer']['state'].items():
        assert torch.equal(resumed['optimizer']['state'][index]['exp_avg'], state['exp_avg'])


def _evaluate(config: Path, checkpoint: Path, out_dir: Path, processes: int) -> dict:
    """Metric summary (``counts``, ``metrics``) and per-sample errors (id -> row) of
    ``mim test`` on ``processes`` processes, from MeshMetric's output files."""
    run_mim('test', config, '--checkpoint', str(checkpoint), '--work-dir', str(out_dir),
            '--cfg-options', GLOO, f'test_evaluator.outfile_prefix={out_dir}/mesh',
            cwd=out_dir.parent, processes=processes)
    summary = json.loads((out_dir / 'mesh_metrics.json').read_text())
    per_sample = np.load(out_dir / 'mesh_per_sample.npz')
    ids = [str(i) for i in per_sample['id']]
    assert len(set(ids)) == len(ids), ids  # no sample evaluated twice
    summary['errors'] = {i: per_sample['A_joint'][n] for n, i in enumerate(ids)}
    return summary


def test_postometro_two_processes_train_and_evaluate_like_one(tiny_configs, tmp_path):
    config, work_dir = tiny_configs['postometro-s'], tmp_path / 'work'
    log = run_mim('train', config, '--work-dir', str(work_dir), '--cfg-options', GLOO,
                  cwd=tmp_path, processes=2)
    assert 'Distributed training: True' in log
    # each process trains on its half of the set (3 samples -> 2 batches of at most 2)
    iters = math.ceil(math.ceil(NUM_TRAIN / 2) / TRAIN_BATCH_SIZE)
    assert train_iterations(log) == [(1, i, iters) for i in range(1, iters + 1)]
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.is_file()

    one = _evaluate(config, checkpoint, tmp_path / 'test_1', processes=1)
    two = _evaluate(config, checkpoint, tmp_path / 'test_2', processes=2)
    for result in (one, two):  # every test sample counted exactly once
        assert result['counts']['samples'] == result['counts']['smpl'] == NUM_TEST
        assert len(result['errors']) == NUM_TEST
    assert set(one['metrics']) >= {'MPJPE', 'PA-MPJPE', 'MPVPE', 'B/MPJPE'}
    assert two['metrics'] == one['metrics']
    assert two['errors'].keys() == one['errors'].keys()
    for sample, errors in one['errors'].items():
        np.testing.assert_array_equal(two['errors'][sample], errors)

    # a checkpoint of another model is refused, with what does not fit (the pose branch)
    log = run_mim('test', tiny_configs['fastmetro-s'], '--checkpoint', str(checkpoint),
                  '--work-dir', str(tmp_path / 'mismatch'), cwd=tmp_path, expect_failure=True)
    assert 'tools/test.py: error: checkpoint' in log and '--allow-partial-load' in log
    unexpected = log.split('unexpected parameters in the checkpoint')[1].splitlines()[0]
    assert 'neck.' in unexpected or 'pose_tokenizer.' in unexpected, log[-3000:]
