"""Inference API: build a mesh model, run it on person boxes, detect people with mmdet and
export the results (``demo/mesh_demo.py`` is its command line; drawing lives in
:mod:`postometro_mm.visualization`)."""
from ..utils.checkpoint_loading import CheckpointMismatchError
from .exporters import MESH_FORMATS, MESH_SPACES, prediction_records, save_person_meshes
from .frame_sources import Frame, FrameSource, open_source
from .inference import (InferenceInputError, build_inference_pipeline, has_decoded_pose,
                        inference_mesh, init_model, mesh_faces, read_image)
from .mesh_inferencer import BACKENDS, MeshInferencer, PersonDetector
from .mesh_io import load_obj, load_ply, save_obj, save_ply
from .onnxruntime_model import ONNXRuntimeMeshModel

__all__ = [
    'init_model', 'inference_mesh', 'build_inference_pipeline', 'mesh_faces', 'read_image',
    'has_decoded_pose', 'InferenceInputError', 'CheckpointMismatchError', 'MeshInferencer',
    'PersonDetector', 'Frame', 'FrameSource', 'open_source', 'prediction_records',
    'save_person_meshes', 'MESH_FORMATS', 'MESH_SPACES', 'save_obj', 'load_obj', 'save_ply',
    'load_ply', 'ONNXRuntimeMeshModel', 'BACKENDS'
]
