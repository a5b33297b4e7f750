"""Command-line plumbing shared by the tools: ``SRC DST [--force]`` arguments of the file
conversions (``tools/model_converters/*``), the refusal to overwrite an existing output, and
one-line errors for bad input (:func:`run_cli`)."""
import argparse
import os
import os.path as osp
import pickle
import sys
from typing import Any, Callable

#: Errors that mean the user's input is wrong (a file, a key, a value, a refused pickle):
#: :func:`run_cli` prints their message, not a traceback.
USER_INPUT_ERRORS = (OSError, KeyError, ValueError, IndexError, pickle.UnpicklingError)
#: Environment variable that makes :func:`run_cli` show the traceback instead.
DEBUG_ENV = 'POSTOMETRO_DEBUG'


def conversion_parser(description: str, src_help: str,
                      dst_help: str = 'output file') -> argparse.ArgumentParser:
    """Parser with positional ``src`` and ``dst`` and ``--force`` (overwrite ``dst``); tools add
    their own options to it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('src', help=src_help)
    parser.add_argument('dst', help=dst_help)
    parser.add_argument('--force', action='store_true', help='overwrite an existing DST')
    return parser


def refuse_overwrite(path: str, force: bool) -> None:
    """Raise ``FileExistsError`` (naming ``path`` and ``--force``) when ``path`` exists and
    ``force`` is False. Tools call it before their work, so a refused run costs nothing."""
    if osp.exists(path) and not force:
        raise FileExistsError(f'"{path}" exists; pass --force to overwrite it')


def error_message(err: BaseException) -> str:
    """The message of an exception as a user reads it (``KeyError`` without the quotes its
    ``str`` adds; ``OSError`` with its file name)."""
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0])
    return str(err)


def run_cli(main: Callable[[], Any], prog: str) -> int:
    """Run a tool's ``main`` and return its exit status (its return value when an int, else
    0); a :data:`USER_INPUT_ERRORS` ends it
    with one line ``<prog>: error: <message>`` on stderr and status 1 (the messages name the
    file, key or value; set ``POSTOMETRO_DEBUG=1`` for the traceback).

    Use as ``sys.exit(run_cli(main, 'tools/x.py'))``.
    """
    try:
        status = main()
    except USER_INPUT_ERRORS as err:
        if os.environ.get(DEBUG_ENV, '') not in ('', '0'):
            raise
        print(f'{prog}: error: {error_message(err)}', file=sys.stderr, flush=True)
        return 1
    return status if isinstance(status, int) else 0
