"""Convert a released VQ-HPS checkpoint (g-fiche/VQ-HPS mesh regressor, ``{'model': state_dict}``)
and its Mesh-VQ-VAE into one plugin ``VQHPSEstimator`` checkpoint, or back with ``--reverse``.

    python tools/model_converters/vqhps_to_plugin.py SRC DST --mesh-vqvae MESH_VQVAE
        [--config CFG [--cfg-options K=V ...]] [--force]
    python tools/model_converters/vqhps_to_plugin.py PLUGIN REGRESSOR_DST --reverse
        [--mesh-vqvae-out MESH_VQVAE_DST] [--force]

The regressor's DDP ``module.`` prefix is stripped; the causal masks are checked and recomputed
by the plugin. Keys without a plugin counterpart (the HRNet's unused ``final_layer``, the
retired ``rotcam_feat`` module) are listed and kept under ``official_unmapped`` in DST, so that
``--reverse`` restores them. With
``--config`` (e.g. ``configs/vqhps/vqhps_r50_mixed-224x224.py``) the keys are compared with the
model the config builds on the meta device (no SMPL needed; the Mesh-VQ-VAE connection files
are looked up beside the config, or ``--cfg-options
model.head.mesh_tokenizer.connection_dir=DIR``); missing, unexpected or mis-shaped keys exit 1.
Outputs are written first, atomically; existing files need ``--force``. Inputs are loaded
weights-only with an allow-list of classes (``--unsafe-load`` for trusted legacy files).
"""
import sys

from postometro_mm.models.converters import (UNMAPPED_KEY, check_keys_against_config,
                                             checkpoint_conversion_parser, load_state_dict_file,
                                             print_keys, save_checkpoint_atomic,
                                             save_converted_checkpoint, vqhps_official_to_plugin,
                                             vqhps_plugin_to_official)
from postometro_mm.utils.checkpoint_loading import load_checkpoint_file
from postometro_mm.utils.cli import refuse_overwrite, run_cli


def main(argv=None) -> int:
    parser = checkpoint_conversion_parser(
        'released VQ-HPS (+ Mesh-VQ-VAE) checkpoints <-> postometro_mm VQHPSEstimator checkpoint',
        src_help='released regressor checkpoint (plugin checkpoint with --reverse)',
        reverse_help='plugin checkpoint -> released regressor layout (DST) and Mesh-VQ-VAE '
        '(--mesh-vqvae-out)')
    parser.add_argument('--mesh-vqvae', help='released Mesh-VQ-VAE checkpoint (mesh_vqvae_54) '
                        'whose tensors become head.mesh_tokenizer.*')
    parser.add_argument('--mesh-vqvae-out', help='with --reverse: write the Mesh-VQ-VAE here')
    args = parser.parse_args(argv)
    refuse_overwrite(args.dst, args.force)
    if args.reverse:
        if args.mesh_vqvae_out:
            refuse_overwrite(args.mesh_vqvae_out, args.force)
        checkpoint = load_checkpoint_file(args.src, 'cpu', unsafe=args.unsafe_load)
        unmapped = checkpoint.get(UNMAPPED_KEY, {}) if isinstance(checkpoint, dict) else {}
        regressor, tokenizer = vqhps_plugin_to_official(
            load_state_dict_file(args.src, args.unsafe_load), unmapped)
        save_checkpoint_atomic({'model': regressor}, args.dst, force=args.force)
        print(f'wrote {len(regressor)} released-layout regressor keys to {args.dst}')
        if args.mesh_vqvae_out:
            if not tokenizer:
                raise ValueError(f'{args.src} holds no head.mesh_tokenizer.* keys to write to '
                                 f'{args.mesh_vqvae_out}')
            save_checkpoint_atomic({'model': tokenizer}, args.mesh_vqvae_out, force=args.force)
            print(f'wrote {len(tokenizer)} Mesh-VQ-VAE keys to {args.mesh_vqvae_out}')
        return 0
    mesh_vqvae = (load_state_dict_file(args.mesh_vqvae, args.unsafe_load)
                  if args.mesh_vqvae else None)
    plugin, unmapped = vqhps_official_to_plugin(
        load_state_dict_file(args.src, args.unsafe_load), mesh_vqvae)
    print_keys(f'released keys without a plugin counterpart (kept in {UNMAPPED_KEY})', unmapped)
    save_converted_checkpoint(plugin, args.dst, args.force, args.src, 'vqhps_official_to_plugin',
                              unmapped=unmapped)
    return check_keys_against_config(args.config, plugin, cfg_options=args.cfg_options)


if __name__ == '__main__':
    sys.exit(run_cli(main, 'vqhps_to_plugin'))
