"""The quickstart's synthetic world (``tools/quickstart_world.py`` is its command line):
random people from an SMPL-format body model rendered over random backgrounds with random
occluders, written as SPIN-style ``.npz`` + images and as 3DPW sequence files."""
from .world import SPLITS, SyntheticPeople, generate_world

__all__ = ['generate_world', 'SPLITS', 'SyntheticPeople']
