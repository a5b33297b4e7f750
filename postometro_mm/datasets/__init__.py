from . import transforms  # noqa: F401
from .base_mesh_dataset import BaseMeshDataset, build_mesh_data_info, parse_gender
from .body_model_mesh_dataset import BodyModelMeshDataset, to_smpl_pose
from .emdb_dataset import EMDBDataset
from .metro_tsv_dataset import METROTSVDataset
from .oh3d_dataset import OH3DDataset
from .pw3d_dataset import PW3DDataset
from .spin_npz_dataset import SPINNpzDataset, read_npz
from .subsets import PW3D_OCC_SEQUENCES, PW3D_PC_FRAME_RANGES
from .tsv_io import CompositeTSVFile, TSVFile
from .validation import InvalidAnnotationError

__all__ = [
    'BaseMeshDataset', 'BodyModelMeshDataset', 'to_smpl_pose', 'SPINNpzDataset', 'PW3DDataset',
    'OH3DDataset', 'EMDBDataset', 'METROTSVDataset', 'build_mesh_data_info', 'parse_gender',
    'read_npz', 'TSVFile', 'CompositeTSVFile', 'InvalidAnnotationError', 'PW3D_OCC_SEQUENCES',
    'PW3D_PC_FRAME_RANGES'
]
