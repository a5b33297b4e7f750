"""Command-line plumbing shared by the file-conversion tools (``tools/model_converters/*``):
``SRC DST [--force]`` arguments and the refusal to overwrite an existing output."""
import argparse
import os.path as osp


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
