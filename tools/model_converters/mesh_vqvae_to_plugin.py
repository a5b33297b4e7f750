"""Convert a released Mesh-VQ-VAE checkpoint (g-fiche/Mesh-VQ-VAE, ``{'model': state_dict}``)
to the plugin's ``MeshVQVAE`` layout, or back with ``--reverse``.

    python tools/model_converters/mesh_vqvae_to_plugin.py SRC DST [--config CFG
        [--cfg-options K=V ...]] [--reverse] [--force]

The released layout holds every autoencoder tensor twice (``encoder.model.*`` and
``decoder.model.*``, one shared module); the conversion checks that both copies are equal and
keeps one, ``--reverse`` writes both again, so a round trip is lossless. With ``--config``
(e.g. ``configs/_base_/models/mesh_vqvae_medium.py``; ``--cfg-options
model.connection_dir=DIR`` where the connection files are) the converted keys are compared with
the model the config builds on the meta device; missing, unexpected or mis-shaped keys exit 1.
DST is written first, atomically; an existing DST needs ``--force``. SRC is loaded
weights-only with an allow-list of classes (``--unsafe-load`` for trusted legacy files).
"""
import sys

from postometro_mm.models.converters import (check_keys_against_config,
                                             checkpoint_conversion_parser, load_state_dict_file,
                                             mesh_vqvae_official_to_plugin,
                                             mesh_vqvae_plugin_to_official,
                                             save_checkpoint_atomic, save_converted_checkpoint)
from postometro_mm.utils.cli import refuse_overwrite, run_cli


def main(argv=None) -> int:
    args = checkpoint_conversion_parser(
        'released Mesh-VQ-VAE checkpoint <-> postometro_mm MeshVQVAE checkpoint',
        src_help='released checkpoint (plugin checkpoint with --reverse)',
        reverse_help='plugin checkpoint -> released layout').parse_args(argv)
    refuse_overwrite(args.dst, args.force)
    state_dict = load_state_dict_file(args.src, args.unsafe_load)
    if args.reverse:
        official = mesh_vqvae_plugin_to_official(state_dict)
        save_checkpoint_atomic({'model': official}, args.dst, force=args.force)
        print(f'wrote {len(official)} released-layout keys to {args.dst}')
        return 0
    plugin = mesh_vqvae_official_to_plugin(state_dict)
    save_converted_checkpoint(plugin, args.dst, args.force, args.src,
                              'mesh_vqvae_official_to_plugin')
    return check_keys_against_config(args.config, plugin, cfg_options=args.cfg_options)


if __name__ == '__main__':
    sys.exit(run_cli(main, 'mesh_vqvae_to_plugin'))
