"""Convert a released PCT checkpoint (Gengzigang/PCT, MMPose 0.x / mmcv layout) to the plugin's
``PCTPoseEstimator`` layout, or back with ``--reverse``.

    python tools/model_converters/pct_to_plugin.py SRC DST [--config CFG [--cfg-options K=V ...]]
        [--reverse] [--force]

SRC: a PCT checkpoint (``backbone.*``, ``extra_backbone.*``, ``keypoint_head.*``; bare or under
``state_dict``), or a plugin checkpoint with ``--reverse``. DST: ``{'state_dict': ...,
'meta': ...}``. The key map is documented in :mod:`postometro_mm.models.converters.pct`
(``extra_backbone.*`` is dropped after checking it equals ``backbone.*``, and re-created on
export).

With ``--config`` the plugin-layout state dict (the converted one, or SRC with ``--reverse``) is
compared with a model built from the config (on the meta device, no weights loaded): missing,
unexpected and shape-mismatched keys are printed and the exit status is 1 if there are any. The
check loads no checkpoint (``init_cfg`` is not run on the meta device); ``--cfg-options`` overrides
the config. DST is written before the check: a failing check is reported (exit status 1) and leaves
the converted file. The output is written atomically (temporary file, then rename); an existing DST
needs ``--force``. SRC is loaded weights-only with an allow-list of classes;
``--unsafe-load`` unpickles it in full (only for files you trust).

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
from postometro_mm.utils.cli import refuse_overwrite, run_cli


def main(argv=None) -> int:
    args = checkpoint_conversion_parser(
        'PCT checkpoint <-> postometro_mm PCTPoseEstimator checkpoint',
        src_help='PCT checkpoint (plugin checkpoint with --reverse)',
        reverse_help='plugin checkpoint -> official PCT layout').parse_args(argv)
    refuse_overwrite(args.dst, args.force)
    state_dict = load_state_dict_file(args.src, args.unsafe_load)
    if args.reverse:
        plugin, converted = state_dict, pct_plugin_to_official(state_dict)
        converter, layout = 'pct_plugin_to_official', 'pct_official'
    else:
        converted = plugin = pct_official_to_plugin(state_dict)
        converter, layout = 'pct_official_to_plugin', 'postometro_mm'
    print(f'{args.src}: {len(state_dict)} tensors -> {len(converted)} tensors ({converter})')
    save_converted_checkpoint(converted, args.dst, args.force, args.src, converter, layout)
    return check_keys_against_config(args.config, plugin, cfg_options=args.cfg_options)


if __name__ == '__main__':
    sys.exit(run_cli(main, 'pct_to_plugin'))
