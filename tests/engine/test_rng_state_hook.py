"""RNGStateHook: a training killed after a checkpoint and resumed from it ends with the same
weights and losses as the uninterrupted one (dropout, random augmentation in the data
pipeline, shuffling, validation in between), epoch- and iteration-based."""
import random

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from postometro_mm.engine.rng_state_hook import get_rng_states, set_rng_states
from postometro_mm.utils.checkpoint_loading import load_checkpoint_file


class _NoisyData(Dataset):
    """Samples augmented with Python's, NumPy's and torch's global generators."""

    def __len__(self) -> int:
        return 12

    def __getitem__(self, index: int) -> dict:
        x = torch.full((4, ), float(index)) + torch.randn(4)
        x = x * (1 + np.random.rand()) + random.random()
        return dict(inputs=x.float(), target=torch.tensor([index % 3], dtype=torch.float32))


class _DropoutModel(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.3), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, inputs, target, mode='tensor'):
        out = self.net(torch.stack(inputs) if isinstance(inputs, list) else inputs)
        target = torch.stack(target) if isinstance(target, list) else target
        if mode == 'loss':
            return dict(loss=((out - target)**2).mean())
        return [dict(error=float(((out - target)**2).mean()))]


class _Losses:
    """Records the training loss of every iteration."""

    def __init__(self):
        self.values = []


def _runner(work_dir, by_epoch: bool, resume=None, losses=None) -> Runner:
    from mmengine.evaluator import BaseMetric
    from mmengine.hooks import Hook

    class MeanError(BaseMetric):

        def process(self, data_batch, data_samples):
            self.results += [s['error'] for s in data_samples]

        def compute_metrics(self, results):
            return dict(error=float(np.mean(results)))

    class RecordLoss(Hook):

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            losses.values.append(float(outputs['loss']))

    train_cfg = (dict(by_epoch=True, max_epochs=3, val_interval=1) if by_epoch else
                 dict(by_epoch=False, max_iters=18, val_interval=6))
    loader = dict(dataset=_NoisyData(), batch_size=2, num_workers=0,
                  sampler=dict(type='DefaultSampler' if by_epoch else 'InfiniteSampler',
                               shuffle=True),
                  collate_fn=dict(type='default_collate'))
    return Runner(
        model=_DropoutModel(), work_dir=str(work_dir), train_dataloader=loader,
        val_dataloader=dict(loader, sampler=dict(type='DefaultSampler', shuffle=False)),
        val_evaluator=[MeanError()], train_cfg=train_cfg, val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-2)),
        # save_best: mmengine re-saves the latest checkpoint during validation
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=by_epoch,
                                           interval=1 if by_epoch else 6, save_best='error',
                                           rule='less'),
                           logger=dict(type='LoggerHook', interval=100)),
        custom_hooks=[dict(type='RNGStateHook'), RecordLoss()],
        randomness=dict(seed=0), default_scope='mmpose', resume=resume is not None,
        load_from=resume, experiment_name=f'rng_{work_dir.name}_{resume is not None}')


@pytest.mark.parametrize('by_epoch', [True, False], ids=['epochs', 'iterations'])
def test_resume_repeats_the_uninterrupted_run_exactly(tmp_path, by_epoch):
    whole = _Losses()
    _runner(tmp_path / 'whole', by_epoch, losses=whole).train()
    name = 'epoch' if by_epoch else 'iter'
    middle = tmp_path / 'whole' / f'{name}_{1 if by_epoch else 6}.pth'
    end = tmp_path / 'whole' / f'{name}_{3 if by_epoch else 18}.pth'

    resumed = _Losses()
    _runner(tmp_path / 'resumed', by_epoch, resume=str(middle), losses=resumed).train()
    assert len(resumed.values) == len(whole.values) * 2 // 3
    assert resumed.values == whole.values[-len(resumed.values):]  # bit-identical losses
    final = torch.load(tmp_path / 'resumed' / end.name, weights_only=False)['state_dict']
    expected = torch.load(end, weights_only=False)['state_dict']
    assert all(torch.equal(final[k], expected[k]) for k in expected)


def test_states_round_trip_through_a_weights_only_checkpoint(tmp_path):
    torch.manual_seed(3)
    states = get_rng_states()
    expected = (random.random(), np.random.rand(), torch.rand(1))
    torch.save(dict(rng_states=[states]), tmp_path / 'c.pth')
    set_rng_states(load_checkpoint_file(str(tmp_path / 'c.pth'))['rng_states'][0])
    assert (random.random(), np.random.rand()) == expected[:2]
    assert torch.equal(torch.rand(1), expected[2])
