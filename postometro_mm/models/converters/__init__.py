from .pct import pct_official_to_plugin, pct_plugin_to_official  # noqa: F401
from .checkpoint_io import (build_model_on_meta, compare_with_model,  # noqa: F401
                            load_state_dict_file, print_key_report, print_keys,
                            save_checkpoint_atomic)
from .fastmetro import fastmetro_official_to_plugin  # noqa: F401
from .postometro import (postometro_official_to_plugin,  # noqa: F401
                         postometro_plugin_to_official)
