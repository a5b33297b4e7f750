"""Convert reference PostoMETRO weights to the postometro_mm ``MeshEstimator`` layout (or back).

    python tools/model_converters/postometro_to_plugin.py SRC DST [--config CFG] [--reverse]
        [--force]

SRC: a ``torch.save`` state dict of the reference model (PostoMETRO/PostoMETRO-Paper layout:
``backbone.``, ``transformer_1.`` … ``pct.``), bare or under ``state_dict``/``model``. DST: an
mmengine checkpoint ``{'state_dict': ..., 'meta': ...}``; reference entries without a plugin
counterpart (the pose HRNet's heatmap ``backbone.final_layer``) are kept under
``official_unmapped`` so that ``--reverse`` restores the reference state dict exactly.

With ``--config`` the model is built from the config (on the meta device, no weights loaded)
and the missing / unexpected / shape-mismatched keys of the converted state dict are printed;
the exit status is 1 if there are any. The output is written atomically (temporary file, then
rename); an existing DST needs ``--force``.
"""
import sys

import torch

from postometro_mm.models.converters import (UNMAPPED_KEY, check_keys_against_config,
                                             checkpoint_conversion_parser, load_state_dict_file,
                                             postometro_official_to_plugin,
                                             postometro_plugin_to_official, print_keys,
                                             save_checkpoint_atomic, save_converted_checkpoint)
from postometro_mm.utils.cli import refuse_overwrite


def main(argv=None) -> int:
    args = checkpoint_conversion_parser(
        'reference PostoMETRO state dict <-> postometro_mm MeshEstimator checkpoint',
        src_help='reference state dict (plugin checkpoint with --reverse)',
        reverse_help='plugin checkpoint -> reference state dict').parse_args(argv)
    refuse_overwrite(args.dst, args.force)
    if args.reverse:
        checkpoint = torch.load(args.src, map_location='cpu', weights_only=False)
        unmapped = checkpoint.get(UNMAPPED_KEY, {}) if isinstance(checkpoint, dict) else {}
        official = postometro_plugin_to_official(load_state_dict_file(args.src), unmapped)
        save_checkpoint_atomic(official, args.dst, force=args.force)
        print(f'wrote {len(official)} reference keys to {args.dst} '
              f'({len(unmapped)} restored from {UNMAPPED_KEY})')
        return 0

    plugin, unmapped = postometro_official_to_plugin(load_state_dict_file(args.src))
    print_keys(f'reference keys without a plugin counterpart (kept in {UNMAPPED_KEY})', unmapped)
    status = check_keys_against_config(args.config, plugin)
    save_converted_checkpoint(plugin, args.dst, args.force, args.src,
                              'postometro_official_to_plugin', unmapped=unmapped)
    return status


if __name__ == '__main__':
    sys.exit(main())
