"""ONNX Runtime backend of the inference API: a PostoMETRO / FastMETRO exported by
``tools/deployment/pytorch2onnx.py`` (fp32 or int8), run on the CPU behind the interface that
:func:`~postometro_mm.apis.inference_mesh`, :class:`~postometro_mm.apis.MeshInferencer` and
``demo/mesh_demo.py`` use: ``cfg``, ``inference_pipeline``, ``test_step`` and the mesh faces.
Its predictions follow the same contract as the PyTorch model's (the same post-processing,
:func:`~postometro_mm.models.heads.postometro_head.mesh_predictions`), with the decoded 2D pose
when the graph outputs it (models whose pose tokenizer feeds the neck)."""
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import nn

from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from ..body_models.joint_regressors import load_joint_regressor
from ..models.estimators.mesh_estimator import add_decoded_pose, attach_predictions
from ..models.heads.postometro_head import mesh_predictions
from .inference import build_inference_pipeline, load_config
from .onnx_export import DECODED_POSE_OUTPUT, INPUT_NAME, MESH_OUTPUTS

#: Heads whose models the exporter writes.
EXPORTED_HEADS = ('PostoMETROHead', )


def onnxruntime_session(path: str, threads: int = 1, spinning: bool = True):
    """An ONNX Runtime CPU session of ``path`` with ``threads`` intra-op threads and one
    inter-op thread (so that processes running side by side do not oversubscribe the cores).

    ``spinning=False`` lets idle intra-op threads sleep instead of spin-waiting for the next
    run. Spinning made a lone PostoMETRO-S session ~5 % faster on 2 cores, but when several
    sessions (or other busy threads) alternate, the idle ones' spinning takes the cores: int8
    at batch 1 with 2 threads took 0.33 s interleaved with an fp32 session and eager PyTorch,
    0.24 s with spinning off."""
    import onnxruntime
    if not Path(path).is_file():
        raise FileNotFoundError(f'ONNX file "{path}" does not exist (write it with '
                                'tools/deployment/pytorch2onnx.py)')
    if threads < 1:
        raise ValueError(f'threads must be >= 1, got {threads}')
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry('session.intra_op.allow_spinning',
                                     '1' if spinning else '0')
    return onnxruntime.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])


def onnxruntime_outputs(path: str, crops: np.ndarray, threads: int = 1) -> Dict[str, np.ndarray]:
    """The outputs of the exported graph ``path`` run by ONNX Runtime (CPU) on raw crops
    (B, 3, H, W), by output name."""
    session = onnxruntime_session(path, threads)
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, {INPUT_NAME: crops.astype(np.float32)})))


class ONNXRuntimeMeshModel(nn.Module):
    """An exported mesh model run by ONNX Runtime (module docstring).

    Args:
        config (str | Path | Config): the config the model was exported from (its test
            pipeline, mesh sampler and joint regressor are used here).
        onnx_file (str): the exported graph (``pytorch2onnx.py``; fp32 or ``--int8``).
        threads (int): ONNX Runtime intra-op threads. Default 1.
        cfg_options (dict, optional): overrides merged into the config.
        spinning (bool): let idle intra-op threads spin-wait (see
            :func:`onnxruntime_session`). Default True.

    Raises:
        ValueError: the config's head is not one the exporter writes, or the graph's inputs /
            outputs are not the exporter's.
    """

    def __init__(self, config: Union[str, Path, Config], onnx_file: str, threads: int = 1,
                 cfg_options: Optional[dict] = None, spinning: bool = True) -> None:
        super().__init__()
        cfg = load_config(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        head = cfg.get('model', {}).get('head', {})
        if head.get('type') not in EXPORTED_HEADS:
            raise ValueError(f'ONNX Runtime backend: the config\'s model.head is '
                             f'{head.get("type")!r}; exported models have {EXPORTED_HEADS}')
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpose')):
            self.mesh_sampler = MODELS.build(head['mesh_sampler'])
            self.inference_pipeline = build_inference_pipeline(cfg)
        regressor = load_joint_regressor(head['joint_regressor']).float()
        num_vertices = self.mesh_sampler.num_vertices[0]
        if regressor.shape != (17, num_vertices):
            raise ValueError(f'ONNX Runtime backend: joint_regressor {head["joint_regressor"]} '
                             f'has shape {tuple(regressor.shape)}, expected (17, '
                             f'{num_vertices})')
        self.register_buffer('h36m_regressor', regressor, persistent=False)
        self.session = onnxruntime_session(onnx_file, threads, spinning)
        inputs = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        expected = (MESH_OUTPUTS, MESH_OUTPUTS + (DECODED_POSE_OUTPUT, ))
        if inputs != [INPUT_NAME] or tuple(outputs) not in expected:
            raise ValueError(f'{onnx_file}: inputs {inputs} and outputs {outputs}, expected '
                             f'[{INPUT_NAME!r}] and {list(MESH_OUTPUTS)} (+ '
                             f'{DECODED_POSE_OUTPUT!r}): a mesh model exported by '
                             'tools/deployment/pytorch2onnx.py')
        self.output_names = outputs
        self.input_hw = tuple(self.session.get_inputs()[0].shape[2:])
        self.onnx_file = str(onnx_file)
        self.cfg = cfg
        self.dataset_meta = {}
        #: ``output_decoded_pose`` (bool), as the PyTorch model's test_cfg.
        self.test_cfg = {}

    @property
    def can_decode_pose(self) -> bool:
        """Whether the graph outputs the decoded 2D pose (``test_cfg.output_decoded_pose``
        then adds ``decoded_keypoints`` to the predictions, as in the PyTorch model)."""
        return DECODED_POSE_OUTPUT in self.output_names

    def faces(self) -> np.ndarray:
        """(F, 3) int64 faces of the predicted (finest) mesh."""
        return np.asarray(self.mesh_sampler.faces(0), dtype=np.int64)

    @torch.no_grad()
    def test_step(self, data: dict) -> List[PoseDataSample]:
        """Run the graph on a ``pseudo_collate``-d batch of the inference pipeline.

        Args:
            data (dict): ``inputs`` (list of (3, H, W) crops as ``PackMeshInputs`` packs them)
                and ``data_samples``.

        Returns:
            list[PoseDataSample]: the samples with ``pred_instances`` (see
            :func:`mesh_predictions`), with ``decoded_keypoints`` if
            ``test_cfg['output_decoded_pose']``.
        """
        crops = np.stack([np.asarray(x, dtype=np.float32) for x in data['inputs']])
        if tuple(crops.shape[2:]) != self.input_hw:
            raise ValueError(f'{self.onnx_file} takes {self.input_hw} crops, the pipeline made '
                             f'{tuple(crops.shape[2:])}: export it at the config\'s input size')
        outs = dict(zip(self.output_names, self.session.run(None, {INPUT_NAME: crops})))
        samples = data['data_samples']
        preds = mesh_predictions(torch.from_numpy(outs['vertices']),
                                 torch.from_numpy(outs['camera']), self.h36m_regressor, samples)
        if self.test_cfg.get('output_decoded_pose', False):
            if not self.can_decode_pose:
                raise ValueError(f'test_cfg.output_decoded_pose: {self.onnx_file} has no '
                                 f'{DECODED_POSE_OUTPUT!r} output (its model has no pose '
                                 'tokenizer feeding the neck)')
            add_decoded_pose(preds, outs[DECODED_POSE_OUTPUT], samples)
        return attach_predictions(preds, samples, type(self).__name__)
