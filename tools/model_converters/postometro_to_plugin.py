"""Convert reference PostoMETRO weights to the postometro_mm ``MeshEstimator`` layout (or back).

    python tools/model_converters/postometro_to_plugin.py SRC DST [--config CFG
        [--cfg-options K=V ...]] [--reverse] [--force]

SRC: a ``torch.save`` state dict of the reference model (PostoMETRO/PostoMETRO-Paper layout:
``backbone.``, ``transformer_1.`` … ``pct.``), bare or under ``state_dict``/``model``. DST: an
mmengine checkpoint ``{'state_dict': ..., 'meta': ...}``; reference entries without a plugin
counterpart (the pose HRNet's heatmap ``backbone.final_layer``) are kept under
``official_unmapped`` so that ``--reverse`` restores the reference state dict exactly.

With ``--config`` the model is built from the config (on the meta device, no weights loaded) and
the missing / unexpected / shape-mismatched keys of the converted state dict are printed; the exit
status is 1 if there are any. The check reads only the files that decide the parameter layout (the
mesh sampler: no SMPL, no joint regressor), looked up from the working directory, else beside the
config; ``--cfg-options`` overrides them. DST is written before the check: a failing check is
reported (exit status 1) and leaves the converted file. The output is written atomically (temporary
file, then rename); an existing DST needs ``--force``.
"""
import sys

from postometro_mm.models.converters import (UNMAPPED_KEY, check_keys_against_config,
                                             checkpoint_conversion_parser, load_state_dict_file,
                                             postometro_official_to_plugin,
                                             postometro_plugin_to_official, print_keys,
                                             save_checkpoint_atomic, save_converted_checkpoint)
from postometro_mm.utils.checkpoint_loading import load_checkpoint_file
from postometro_mm.utils.cli import refuse_overwrite, run_cli


def main(argv=None) -> int:
    args = checkpoint_conversion_parser(
        'reference PostoMETRO state dict <-> postometro_mm MeshEstimator checkpoint',
        src_help='reference state dict (plugin checkpoint with --reverse)',
        reverse_help='plugin checkpoint -> reference state dict').parse_args(argv)
    refuse_overwrite(args.dst, args.force)
    if args.reverse:
        checkpoint = load_checkpoint_file(args.src, 'cpu', unsafe=args.unsafe_load)
        unmapped = checkpoint.get(UNMAPPED_KEY, {}) if isinstance(checkpoint, dict) else {}
        state_dict = load_state_dict_file(args.src, args.unsafe_load)
        official = postometro_plugin_to_official(state_dict, unmapped)
        save_checkpoint_atomic(official, args.dst, force=args.force)
        print(f'wrote {len(official)} reference keys to {args.dst} '
              f'({len(unmapped)} restored from {UNMAPPED_KEY})')
        return 0

    plugin, unmapped = postometro_official_to_plugin(
        load_state_dict_file(args.src, args.unsafe_load))
    print_keys(f'reference keys without a plugin counterpart (kept in {UNMAPPED_KEY})', unmapped)
    save_converted_checkpoint(plugin, args.dst, args.force, args.src,
                              'postometro_official_to_plugin', unmapped=unmapped)
    return check_keys_against_config(args.config, plugin, cfg_options=args.cfg_options)


if __name__ == '__main__':
    sys.exit(run_cli(main, 'postometro_to_plugin'))
