"""Random-generator states in checkpoints, so that ``--resume`` continues a training exactly."""
import logging
import random
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size, is_distributed
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from mmpose.registry import HOOKS

#: Key of the generator states in a checkpoint.
RNG_STATES_KEY = 'rng_states'


def get_rng_states() -> Dict[str, Any]:
    """The states of Python's, NumPy's and torch's (CPU and every CUDA device's) global
    generators; values a weights-only checkpoint load accepts (tuples, ints, floats, numpy
    arrays, tensors)."""
    states = dict(python=random.getstate(), numpy=np.random.get_state(),
                  torch=torch.get_rng_state())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: Dict[str, Any]) -> None:
    """Restore what :func:`get_rng_states` returned (CUDA states only where CUDA runs)."""
    python = states['python']
    random.setstate((python[0], tuple(python[1]), python[2]))
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'].cpu())
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in states['cuda']])


class _RestoreAfterSkip:
    """Iterator proxy that restores generator states once ``skip`` (> 0) items were drawn,
    i.e. between the batches an iteration-based loop skips on resume and the first new one,
    then hands the loop its iterator back."""

    def __init__(self, iterator: Iterator, skip: int, states: Dict[str, Any], loop) -> None:
        self.iterator, self.skip, self.states, self.loop = iterator, skip, states, loop

    def __iter__(self) -> '_RestoreAfterSkip':
        return self

    def __next__(self) -> Any:
        item = next(self.iterator)
        self.skip -= 1
        if self.skip == 0:
            set_rng_states(self.states)
            self.loop.dataloader_iterator = self.iterator
        return item


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the global random generators' states in every checkpoint and restore them on
    resume, so that a killed and resumed training (dropout, augmentation, data-loader worker
    seeds) continues exactly as the uninterrupted one would have, on the same machine.

    mmengine keeps the seed and the sampler position but no generator state. With this hook:

    * a checkpoint holds the states of every process at the moment it is written
      (``rng_states``: a list by rank; collected when the ``CheckpointHook`` saves);
    * on ``--resume`` each process gets its own back where the uninterrupted run continues:
      before the next epoch's data loader starts (epoch-based loops), or after the batches an
      iteration-based loop skips to regain its position (a different number of processes
      restores nothing, with a warning);
    * validation runs on a copy of the training stream (the states are put back after it), so
      a resumed run, which does not repeat the validation that followed the checkpoint, sees
      the same stream; checkpoints saved during validation (the best one, and mmengine's
      re-save of the latest one with the new best score) hold the states validation found.

    ``load_from`` (fine-tuning from a checkpoint) restores nothing. Data-loader workers seed
    their own generators when they start: with ``num_workers=0`` or non-persistent workers
    the resumed run repeats their augmentations too; persistent workers (the paper configs)
    carry their generators across epochs, out of a hook's reach, so their augmentations
    continue differently after a resume (dropout, shuffling and the model's own randomness
    still continue exactly).
    """

    priority = 'NORMAL'  # before the CheckpointHook (VERY_LOW) in after_train_iter / _epoch

    def __init__(self) -> None:
        self.pending: Optional[Dict[str, Any]] = None
        self.training = False
        self.before_val_states: Optional[Dict[str, Any]] = None
        self.val_saves_states: Optional[List[Dict[str, Any]]] = None  # by rank
        self.gathered: Optional[List[Dict[str, Any]]] = None

    # ------------------------------------------------------------------ saving
    def _gather_if_saving(self, runner, by_epoch: bool) -> None:
        """With several processes, collect every process's states when the CheckpointHook is
        about to save (it saves on the main process only, where no collective can run)."""
        if not is_distributed():
            return
        hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
        if hook is None or hook.by_epoch != by_epoch:
            return
        if by_epoch:
            saving = (hook.every_n_epochs(runner, hook.interval, hook.save_begin)
                      or (hook.save_last and hook.is_last_train_epoch(runner)))
        else:
            saving = (hook.every_n_train_iters(runner, hook.interval, hook.save_begin)
                      or (hook.save_last and hook.is_last_train_iter(runner)))
        if saving:
            self.gathered = all_gather_object(get_rng_states())

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._gather_if_saving(runner, by_epoch=False)

    def after_train_epoch(self, runner) -> None:
        self._gather_if_saving(runner, by_epoch=True)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.val_saves_states is not None:
            # saved during validation (the best checkpoint, and mmengine's re-save of the
            # latest one with the new best score): the training stream as validation found it
            checkpoint[RNG_STATES_KEY] = self.val_saves_states
            return
        # a checkpoint saved at another moment holds the main process's states only
        checkpoint[RNG_STATES_KEY] = self.gathered or [get_rng_states()]
        self.gathered = None

    # ------------------------------------------------------------------ resuming
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False) or RNG_STATES_KEY not in checkpoint:
            return
        states = checkpoint[RNG_STATES_KEY]
        if len(states) != get_world_size():
            print_log(f'the checkpoint holds the random states of {len(states)} processes, '
                      f'this run has {get_world_size()}: they are not restored, the resumed '
                      'run will not repeat the uninterrupted one exactly', logger='current',
                      level=logging.WARNING)
            return
        self.pending = states[get_rank()]

    def before_train(self, runner) -> None:
        self.training = True

    def before_train_epoch(self, runner) -> None:
        if self.pending is None:
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator') and runner.iter > 0:
            # iteration-based: the loop skips `iter` batches before its next one
            loop.dataloader_iterator = _RestoreAfterSkip(loop.dataloader_iterator, runner.iter,
                                                         self.pending, loop)
        else:
            set_rng_states(self.pending)
        self.pending = None

    def before_val(self, runner) -> None:
        if not self.training:
            return
        self.before_val_states = get_rng_states()
        self.val_saves_states = (all_gather_object(self.before_val_states) if is_distributed()
                                 else [self.before_val_states])

    def after_val(self, runner) -> None:
        if self.before_val_states is not None:
            set_rng_states(self.before_val_states)
        self.before_val_states = self.val_saves_states = None
