"""Convert a FastMETRO body checkpoint to the postometro_mm ``MeshEstimator`` layout.

    python tools/model_converters/fastmetro_to_plugin.py SRC DST [--config CFG] [--force]

SRC: a FastMETRO ``state_dict.bin`` (torchvision ResNet-50 or classification HRNet-W64
backbone). DST: an mmengine checkpoint ``{'state_dict': ..., 'meta': ...}`` with the transformer
part under ``head.`` and the backbone under mmpose names. Entries without a plugin counterpart
(HRNet classification head and the ``conv_1x1`` reading it, optional FastMETRO modules) are
printed and kept under ``official_unmapped``.

With ``--config`` the converted keys are compared with the model the config builds; the exit
status is 1 on unexpected or shape-mismatched keys. Missing keys are only reported: a PostoMETRO
config misses the pose branch, which FastMETRO does not have (load with ``strict=False``). The
output is written atomically; an existing DST needs ``--force``.
"""
import argparse
import sys

from postometro_mm.models.converters import (build_model_on_meta, fastmetro_official_to_plugin,
                                             load_state_dict_file, print_key_report, print_keys,
                                             save_checkpoint_atomic)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='FastMETRO state dict -> postometro_mm MeshEstimator checkpoint')
    parser.add_argument('src', help='FastMETRO state dict')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument('--config', help='plugin config to check the converted keys against')
    parser.add_argument('--force', action='store_true', help='overwrite DST')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    plugin, unmapped = fastmetro_official_to_plugin(load_state_dict_file(args.src))
    print_keys('FastMETRO keys without a plugin counterpart (kept in official_unmapped)',
               unmapped)
    status = 0
    if args.config:
        _, unexpected, mismatched = print_key_report(build_model_on_meta(args.config), plugin)
        status = int(bool(unexpected or mismatched))
    save_checkpoint_atomic(
        {'state_dict': plugin, 'official_unmapped': unmapped,
         'meta': dict(converted_from=args.src, converter='fastmetro_official_to_plugin')},
        args.dst, force=args.force)
    print(f'wrote {len(plugin)} plugin keys to {args.dst}')
    return status


if __name__ == '__main__':
    sys.exit(main())
