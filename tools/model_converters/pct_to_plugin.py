"""Convert a released PCT checkpoint (Gengzigang/PCT, MMPose 0.x / mmcv layout) to the plugin's
``PCTPoseEstimator`` layout, or back with ``--reverse``.

    python tools/model_converters/pct_to_plugin.py SRC DST [--config CFG] [--reverse] [--force]

SRC: a PCT checkpoint (``backbone.*``, ``extra_backbone.*``, ``keypoint_head.*``; bare or under
``state_dict``), or a plugin checkpoint with ``--reverse``. DST: ``{'state_dict': ...,
'meta': ...}``. The key map is documented in :mod:`postometro_mm.models.converters.pct`
(``extra_backbone.*`` is dropped after checking it equals ``backbone.*``, and re-created on
export).

With ``--config`` the plugin-layout state dict (the converted one, or SRC with ``--reverse``) is
compared with a model built from the config (on the meta device, no weights loaded): missing,
unexpected and shape-mismatched keys are printed and the exit status is 1 if there are any (DST
is written either way). The output is written atomically (temporary file, then rename); an
existing DST needs ``--force``. Checkpoints are unpickled in full (``weights_only=False``):
convert only files you trust.

Example::

    python tools/model_converters/pct_to_plugin.py weights/pct/swin_base.pth \\
        checkpoints/pct_swinv2-base_plugin.pth \\
        --config configs/pct/pct_classifier_swinv2-base_coco-256x256.py
"""
import argparse
import os.path as osp
import sys

from postometro_mm.models.converters import (build_model_on_meta, load_state_dict_file,
                                             pct_official_to_plugin, pct_plugin_to_official,
                                             print_key_report, save_checkpoint_atomic)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='PCT checkpoint <-> postometro_mm PCTPoseEstimator checkpoint')
    parser.add_argument('src', help='PCT checkpoint (plugin checkpoint with --reverse)')
    parser.add_argument('dst', help='output file')
    parser.add_argument('--config', help='plugin config to check the plugin-layout keys against')
    parser.add_argument('--reverse', action='store_true',
                        help='plugin checkpoint -> official PCT layout')
    parser.add_argument('--force', action='store_true', help='overwrite DST')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    state_dict = load_state_dict_file(args.src)
    if args.reverse:
        plugin = state_dict
        converted = pct_plugin_to_official(state_dict)
    else:
        converted = plugin = pct_official_to_plugin(state_dict)
    direction = 'plugin -> official' if args.reverse else 'official -> plugin'
    print(f'{args.src}: {len(state_dict)} tensors -> {len(converted)} tensors ({direction})')

    status = 0
    if args.config:
        missing, unexpected, mismatched = print_key_report(build_model_on_meta(args.config),
                                                           plugin)
        status = int(bool(missing or unexpected or mismatched))
    meta = dict(converted_by='tools/model_converters/pct_to_plugin.py',
                converted_from=osp.abspath(args.src),
                layout='pct_official' if args.reverse else 'postometro_mm')
    save_checkpoint_atomic(dict(state_dict=converted, meta=meta), args.dst, force=args.force)
    print(f'wrote {args.dst}')
    return status


if __name__ == '__main__':
    sys.exit(main())
