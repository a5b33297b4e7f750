from .pct import pct_official_to_plugin, pct_plugin_to_official  # noqa: F401
from .checkpoint_io import (UNMAPPED_KEY, build_model_on_meta,  # noqa: F401
                            check_keys_against_config, checkpoint_conversion_parser,
                            compare_with_model, load_state_dict_file, print_key_report,
                            print_keys, save_checkpoint_atomic, save_converted_checkpoint)
from .fastmetro import fastmetro_official_to_plugin  # noqa: F401
from .postometro import (postometro_official_to_plugin,  # noqa: F401
                         postometro_plugin_to_official)
from .mesh_vqvae import (mesh_vqvae_official_to_plugin,  # noqa: F401
                         mesh_vqvae_plugin_to_official)
from .vqhps import vqhps_official_to_plugin, vqhps_plugin_to_official  # noqa: F401
