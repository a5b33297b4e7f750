"""What a crafted data file or checkpoint holds: an object that unpickles as a call of
``os.system`` (here: creating ``marker``), for the tests that check nothing runs code."""
import os


class RunsCode:
    """Pickles as ``os.system('touch <marker>')``: ``marker`` exists afterwards only if a
    loader ran it."""

    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )
