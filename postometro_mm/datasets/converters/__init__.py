"""Annotation converters (importable; ``tools/dataset_converters/`` holds thin CLI wrappers)."""
from .emdb import convert_emdb, load_emdb_sequence
from .oh3d import convert_oh3d
from .pw3d import convert_pw3d, load_pw3d_sequence

__all__ = ['convert_pw3d', 'convert_oh3d', 'convert_emdb', 'load_pw3d_sequence',
           'load_emdb_sequence']
