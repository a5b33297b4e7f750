"""The ``model`` of a repository config, ready to build outside a Runner (benchmarks, converter
checks, inference): random initial weights, the body-model files of a local folder, or none of
the files that only training reads or that do not change the parameter layout."""
import copy
import os.path as osp
from typing import Any, Optional

from mmengine.config import Config

#: SMPL-topology files read by ``PostoMETROHead`` (METRO / FastMETRO / PostoMETRO data folders).
MESH_DOWNSAMPLING_FILE = 'mesh_downsampling.npz'
H36M_REGRESSOR_FILE = 'J_regressor_h36m_correct.npy'


def _is_pretrained(init_cfg: Any) -> bool:
    return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'


def without_pretrained(cfg: Any) -> Any:
    """A copy of a config tree (dicts, lists, tuples) without the ``init_cfg`` entries that load
    a checkpoint (``type='Pretrained'``); other initialisers stay."""
    if isinstance(cfg, dict):
        out = {}
        for key, value in cfg.items():
            if key == 'init_cfg':
                if _is_pretrained(value):
                    continue
                if isinstance(value, (list, tuple)):
                    value = [v for v in value if not _is_pretrained(v)] or None
            out[key] = without_pretrained(value)
        return out
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(without_pretrained(v) for v in cfg)
    return cfg


#: Heads whose ``body_model`` is also an inference input (VQ-HPS: the rest-pose joints that its
#: rotation branch reads), so :func:`without_training_assets` keeps it.
HEADS_USING_BODY_MODEL_AT_INFERENCE = ('VQHPSHead', )


def _drop_body_model(model: Any, keep_inference_inputs: bool) -> Any:
    model = copy.deepcopy(model)
    head = model.get('head') if isinstance(model, dict) else None
    if isinstance(head, dict) and head.get('body_model') is not None and not (
            keep_inference_inputs and head.get('type') in HEADS_USING_BODY_MODEL_AT_INFERENCE):
        head['body_model'] = None
    return model


def without_training_assets(model: Any) -> Any:
    """A copy of a ``model`` config without the head's ``body_model`` (SMPL, which only builds
    ground-truth meshes for the losses; licensed, and never part of a checkpoint), unless the
    head also reads it at inference (:data:`HEADS_USING_BODY_MODEL_AT_INFERENCE`)."""
    return _drop_body_model(model, keep_inference_inputs=True)


def parameter_layout_only(model: Any) -> Any:
    """A copy of a ``model`` config that builds the same parameters (names and shapes) while
    reading only the files that decide them: a head without its ``body_model``,
    ``joint_regressor`` and ``mid_faces`` (non-persistent buffers). The mesh
    sampler file is still read: its vertex counts size the vertex tokens and the upsampling.
    For checking a checkpoint's keys, e.g. on the meta device."""
    model = _drop_body_model(model, keep_inference_inputs=False)
    head = model.get('head') if isinstance(model, dict) else None
    if isinstance(head, dict):
        for key in ('joint_regressor', 'mid_faces'):
            if key in head:
                head[key] = None
    return model


def find_beside_config(path: str, config_file: str) -> str:
    """``path`` if it exists from the working directory (mmpose's convention for relative
    paths), else the first ``<folder>/path`` that exists for the folders from ``config_file``'s
    own up to the file-system root (a checkout's ``data/`` when a tool runs elsewhere); ``path``
    unchanged when neither exists, for the reader's own error."""
    if osp.isabs(path) or osp.exists(path):
        return path
    folder = osp.dirname(osp.abspath(config_file))
    while True:
        candidate = osp.join(folder, path)
        if osp.exists(candidate):
            return candidate
        parent = osp.dirname(folder)
        if parent == folder:
            return path
        folder = parent


def with_layout_files_beside_config(model: Any, config_file: str) -> Any:
    """A copy of a ``model`` config whose files that decide the parameter layout, the head's
    mesh sampler (PostoMETRO, FastMETRO) and the ``connection_dir`` of a Mesh-VQ-VAE (the model
    itself, or VQ-HPS's ``head.mesh_tokenizer``), are looked up by
    :func:`find_beside_config`."""
    model = copy.deepcopy(model)
    if not isinstance(model, dict):
        return model
    head = model.get('head')
    sampler = head.get('mesh_sampler') if isinstance(head, dict) else None
    if isinstance(sampler, dict) and isinstance(sampler.get('filename'), str):
        sampler['filename'] = find_beside_config(sampler['filename'], config_file)
    for owner in (model, head.get('mesh_tokenizer') if isinstance(head, dict) else None):
        if isinstance(owner, dict) and isinstance(owner.get('connection_dir'), str):
            owner['connection_dir'] = find_beside_config(owner['connection_dir'], config_file)
    return model


def mesh_model_config(config: str, topology_dir: str,
                      smpl_model_dir: Optional[str] = None) -> dict:
    """``model`` of a ``MeshEstimator`` config file as a plain dict with random initial weights.

    The head reads ``mesh_downsampling.npz`` and ``J_regressor_h36m_correct.npy`` from
    ``topology_dir``; its ``GenderedSMPL`` (ground-truth meshes, needed for training only) reads
    ``smpl_model_dir``, or is left out when that is None. Every ``init_cfg`` of type
    ``'Pretrained'`` (backbone, pose tokenizer) is removed.

    Args:
        config (str): config file, e.g. ``configs/postometro/postometro-s_r50_mixed-256x256.py``.
        topology_dir (str): folder with the two SMPL-topology files.
        smpl_model_dir (str, optional): folder with ``SMPL_{NEUTRAL,MALE,FEMALE}.{pkl,npz}``.

    Returns:
        dict: the model config, for ``mmpose.registry.MODELS.build``.

    Raises:
        FileNotFoundError: a missing config file or topology file.
        KeyError: the config has no ``model.head`` (not a mesh model config).
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file "{config}" does not exist')
    for name in (MESH_DOWNSAMPLING_FILE, H36M_REGRESSOR_FILE):
        if not osp.isfile(osp.join(topology_dir, name)):
            raise FileNotFoundError(f'topology folder "{topology_dir}" has no {name}')
    cfg = Config.fromfile(config)
    model = without_pretrained(cfg.model.to_dict()) if 'model' in cfg else {}
    if 'head' not in model:
        raise KeyError(f'config "{config}" has no model.head: expected a MeshEstimator config')
    head = model['head']
    head['mesh_sampler'] = dict(head.get('mesh_sampler', dict(type='MeshSampler')),
                                filename=osp.join(topology_dir, MESH_DOWNSAMPLING_FILE),
                                allow_pickle=True)
    head['joint_regressor'] = osp.join(topology_dir, H36M_REGRESSOR_FILE)
    head['body_model'] = (None if smpl_model_dir is None else
                          dict(type='GenderedSMPL', model_path=smpl_model_dir))
    return model
