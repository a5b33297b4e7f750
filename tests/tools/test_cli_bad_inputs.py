"""Every command-line tool on broken inputs: a non-zero exit status, a last line that names the
file or argument, no traceback, no output left behind and no code run from a data file."""
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import numpy as np
import pytest
import torch
from crafted_pickles import RunsCode

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools'
POSTOMETRO_CONFIG = REPO / 'configs' / 'postometro' / 'postometro-s_r50_mixed-256x256.py'


@pytest.fixture(scope='module')
def inputs(tmp_path_factory) -> Path:
    """Broken inputs of every kind, in one folder."""
    folder = tmp_path_factory.mktemp('bad_inputs')
    torch.save({'w': torch.ones(2)}, folder / 'good.pth')
    torch.save({'w': torch.ones(2)}, folder / 'truncated.pth')
    (folder / 'truncated.pth').write_bytes((folder / 'truncated.pth').read_bytes()[:100])
    torch.save({'state_dict': {'w': torch.ones(1)}, 'meta': RunsCode(folder / 'executed')},
               folder / 'evil.pth')
    torch.save(torch.ones(3), folder / 'tensor.pth')
    with open(folder / 'evil.pkl', 'wb') as f:
        import pickle
        pickle.dump(dict(v_template=RunsCode(folder / 'executed')), f, protocol=2)
    np.save(folder / 'not_a_sampler.npy', np.zeros(3))
    (folder / 'no3dpw').mkdir()
    (folder / 'oh3d' / 'testset').mkdir(parents=True)
    (folder / 'oh3d' / 'testset' / 'annots.json').write_text('{"0001": [1, 2')  # cut short
    torch.save({'w': torch.ones(2)}, folder / 'exists.pth')
    return folder


def _case(tool: str, *args: str) -> List[str]:
    return [str(TOOLS / tool), *args]


CASES = {
    # id: (command line, what the last line must name)
    'converter, missing source': (
        _case('model_converters/postometro_to_plugin.py', '{d}/missing.pth', '{d}/out.pth'),
        'missing.pth'),
    'converter, truncated checkpoint': (
        _case('model_converters/postometro_to_plugin.py', '{d}/truncated.pth', '{d}/out.pth'),
        'truncated.pth'),
    'converter, crafted checkpoint': (
        _case('model_converters/fastmetro_to_plugin.py', '{d}/evil.pth', '{d}/out.pth'),
        'evil.pth'),
    'converter, not a state dict': (
        _case('model_converters/pct_to_plugin.py', '{d}/tensor.pth', '{d}/out.pth'),
        'tensor.pth'),
    'converter, existing output': (
        _case('model_converters/pct_to_plugin.py', '{d}/good.pth', '{d}/exists.pth'),
        'exists.pth'),
    'SMPL converter, crafted pickle': (
        _case('model_converters/smpl_pkl_to_npz.py', '{d}/evil.pkl', '{d}/out.npz'), 'evil.pkl'),
    'sampler converter, not a sampler': (
        _case('model_converters/mesh_sampler_to_npz.py', '{d}/not_a_sampler.npy',
              '{d}/out.npz'), 'not_a_sampler.npy'),
    '3DPW converter, no sequence files': (
        _case('dataset_converters/pw3d_converter.py', '{d}/no3dpw', '{d}/out'), 'no3dpw'),
    '3DOH converter, malformed annotations': (
        _case('dataset_converters/oh3d_converter.py', '{d}/oh3d', '{d}/out', '--splits', 'test'),
        'annots.json'),
    'test tool, misspelt --cfg-options key': (
        _case('test.py', str(POSTOMETRO_CONFIG), '{d}/good.pth', '--work-dir', '{d}/out',
              '--cfg-options', 'trian_cfg.max_iters=2'), 'trian_cfg'),
    'demo, missing config': (
        [str(REPO / 'demo' / 'mesh_demo.py'), '{d}/missing_config.py', '{d}/good.pth',
         '--input', '{d}/no.jpg', '--out-dir', '{d}/out'], 'missing_config.py'),
    'occlusion sensitivity, missing config': (
        _case('analysis/occlusion_sensitivity.py', '{d}/missing_config.py', '{d}/good.pth',
              '--img', '{d}/no.jpg', '--out-dir', '{d}/out'), 'missing_config.py'),
    'train tool, missing --resume checkpoint': (
        _case('train.py', str(POSTOMETRO_CONFIG), '--work-dir', '{d}/out', '--resume',
              '{d}/missing.pth'), 'missing.pth'),
}


@pytest.mark.parametrize('case', list(CASES))
def test_bad_input_ends_with_one_line_naming_it(case, inputs):
    argv, named = CASES[case]
    before = sorted(p.name for p in inputs.iterdir())
    env = {k: v for k, v in os.environ.items() if k != 'POSTOMETRO_DEBUG'}
    proc = subprocess.run([sys.executable, *(a.format(d=inputs) for a in argv)], cwd=str(REPO),
                          env=dict(env, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO)),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=300)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert 'Traceback' not in proc.stderr, proc.stderr
    assert lines and 'error' in lines[-1] and named in lines[-1], proc.stderr
    assert sorted(p.name for p in inputs.iterdir()) == before  # nothing written, nothing run
