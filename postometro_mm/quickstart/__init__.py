"""The quickstart: a synthetic world (random people from an SMPL-format body model rendered
over random backgrounds with random occluders, written as SPIN-style ``.npz`` + images and as
3DPW sequence files; ``tools/quickstart_world.py``) and the pipeline that trains and evaluates
PCT and PostoMETRO on it (``tools/quickstart.py`` / ``make quickstart``)."""
from .budget import BUDGETS, QuickstartBudget
from .pipeline import QuickstartPipeline, run_quickstart
from .world import SPLITS, SyntheticPeople, generate_world

__all__ = ['generate_world', 'SPLITS', 'SyntheticPeople', 'run_quickstart',
           'QuickstartPipeline', 'QuickstartBudget', 'BUDGETS']
