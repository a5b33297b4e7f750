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
import argparse
import sys

import torch

from postometro_mm.models.converters import (build_model_on_meta, load_state_dict_file,
                                             postometro_official_to_plugin,
                                             postometro_plugin_to_official, print_key_report,
                                             print_keys, save_checkpoint_atomic)

UNMAPPED_KEY = 'official_unmapped'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='reference PostoMETRO state dict <-> postometro_mm MeshEstimator checkpoint')
    parser.add_argument('src', help='reference state dict (plugin checkpoint with --reverse)')
    parser.add_argument('dst', help='output file')
    parser.add_argument('--config', help='plugin config to check the converted keys against')
    parser.add_argument('--reverse', action='store_true',
                        help='plugin checkpoint -> reference state dict')
    parser.add_argument('--force', action='store_true', help='overwrite DST')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
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
    status = 0
    if args.config:
        missing, unexpected, mismatched = print_key_report(build_model_on_meta(args.config),
                                                           plugin)
        status = int(bool(missing or unexpected or mismatched))
    save_checkpoint_atomic(
        {'state_dict': plugin, UNMAPPED_KEY: unmapped,
         'meta': dict(converted_from=args.src, converter='postometro_official_to_plugin')},
        args.dst, force=args.force)
    print(f'wrote {len(plugin)} plugin keys to {args.dst}')
    return status


if __name__ == '__main__':
    sys.exit(main())
