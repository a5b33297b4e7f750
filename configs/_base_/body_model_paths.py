# Body-model assets in one place (user-provided and licensed; never downloaded by the code).
# Expected layout:
#   data/body_models/
#   ├── smpl/SMPL_{NEUTRAL,MALE,FEMALE}.pkl  # renamed SMPL v1.0.0 files (male/female from
#   │                                        # smpl.is.tue.mpg.de, neutral from SMPLify), or
#   │                                        # .npz from tools/model_converters/smpl_pkl_to_npz.py
#   ├── J_regressor_extra.npy                # 14 x 6890  } from the METRO / FastMETRO /
#   ├── J_regressor_h36m_correct.npy         # 17 x 6890  } PostoMETRO data folders
#   └── mesh_downsampling.npz                # GraphCMR / METRO mesh sampler (A, U, D, F)
#
# mmengine refuses a key defined by two sibling bases ("Duplicate key is not allowed among
# bases"), so exactly one base of a final config may inherit this file: the model bases do. The
# dataset bases do not; a final config completes their MeshMetric evaluators from `_base_`
# (see configs/_base_/datasets/mesh_eval_defaults.py).
smpl_model_dir = 'data/body_models/smpl'
j_regressor_h36m = 'data/body_models/J_regressor_h36m_correct.npy'
j_regressor_extra = 'data/body_models/J_regressor_extra.npy'
mesh_downsampling = 'data/body_models/mesh_downsampling.npz'
