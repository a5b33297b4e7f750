"""Convert a FastMETRO body checkpoint to the postometro_mm ``MeshEstimator`` layout.

    python tools/model_converters/fastmetro_to_plugin.py SRC DST [--config CFG
        [--cfg-options K=V ...]] [--force]

SRC: a FastMETRO ``state_dict.bin`` (torchvision ResNet-50 or classification HRNet-W64
backbone). DST: an mmengine checkpoint ``{'state_dict': ..., 'meta': ...}`` with the transformer
part under ``head.`` and the backbone under mmpose names. Entries without a plugin counterpart
(HRNet classification head and the ``conv_1x1`` reading it, optional FastMETRO modules) are
printed and kept under ``official_unmapped``.

With ``--config`` the converted keys are compared with the model the config builds; the exit status
is 1 on unexpected or shape-mismatched keys. Missing keys are only reported: a PostoMETRO config
misses the pose branch, which FastMETRO does not have (load with ``strict=False``). The check reads
only the files that decide the parameter layout (the mesh sampler: no SMPL, no joint regressor),
looked up from the working directory, else beside the config; ``--cfg-options`` overrides them. DST
is written before the check: a failing check is reported (exit status 1) and leaves the converted
file. The output is written atomically; an existing DST needs ``--force``.
"""
import sys

from postometro_mm.models.converters import (UNMAPPED_KEY, check_keys_against_config,
                                             checkpoint_conversion_parser,
                                             fastmetro_official_to_plugin, load_state_dict_file,
                                             print_keys, save_converted_checkpoint)
from postometro_mm.utils.cli import refuse_overwrite, run_cli


def main(argv=None) -> int:
    args = checkpoint_conversion_parser(
        'FastMETRO state dict -> postometro_mm MeshEstimator checkpoint',
        src_help='FastMETRO state dict').parse_args(argv)
    refuse_overwrite(args.dst, args.force)
    plugin, unmapped = fastmetro_official_to_plugin(
        load_state_dict_file(args.src, args.unsafe_load))
    print_keys(f'FastMETRO keys without a plugin counterpart (kept in {UNMAPPED_KEY})', unmapped)
    save_converted_checkpoint(plugin, args.dst, args.force, args.src,
                              'fastmetro_official_to_plugin', unmapped=unmapped)
    return check_keys_against_config(args.config, plugin, allow_missing=True,
                                     cfg_options=args.cfg_options)


if __name__ == '__main__':
    sys.exit(run_cli(main, 'fastmetro_to_plugin'))
