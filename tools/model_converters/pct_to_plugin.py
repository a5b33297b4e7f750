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
import sys

from postometro_mm.models.converters import (check_keys_against_config,
                                             checkpoint_conversion_parser, load_state_dict_file,
                                             pct_official_to_plugin, pct_plugin_to_official,
                                             save_converted_checkpoint)
from postometro_mm.utils.cli import refuse_overwrite


def main(argv=None) -> int:
    args = checkpoint_conversion_parser(
        'PCT checkpoint <-> postometro_mm PCTPoseEstimator checkpoint',
        src_help='PCT checkpoint (plugin checkpoint with --reverse)',
        reverse_help='plugin checkpoint -> official PCT layout').parse_args(argv)
    refuse_overwrite(args.dst, args.force)
    state_dict = load_state_dict_file(args.src)
    if args.reverse:
        plugin, converted = state_dict, pct_plugin_to_official(state_dict)
        converter, layout = 'pct_plugin_to_official', 'pct_official'
    else:
        converted = plugin = pct_official_to_plugin(state_dict)
        converter, layout = 'pct_official_to_plugin', 'postometro_mm'
    print(f'{args.src}: {len(state_dict)} tensors -> {len(converted)} tensors ({converter})')
    status = check_keys_against_config(args.config, plugin)
    save_converted_checkpoint(converted, args.dst, args.force, args.src, converter, layout)
    return status


if __name__ == '__main__':
    sys.exit(main())
