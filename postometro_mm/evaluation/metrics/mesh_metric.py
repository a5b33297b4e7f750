"""Mesh-recovery metric: MPJPE, PA-MPJPE, MPVPE, PA-MPVPE under two published protocols."""
import json
import os
import os.path as osp
from collections import OrderedDict, defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmpose.registry import METRICS, MODELS
from postometro_mm.body_models import gender_to_index, load_joint_regressor
from postometro_mm.body_models.joint_sets import (H36M17_NAMES, H36M17_PELVIS_INDEX,
                                                  H36M17_TO_J14, J14_HIP_INDICES, J14_NAMES,
                                                  J24_TO_J14)
from ..functional import point_errors, similarity_procrustes

_M_TO_MM = 1000.0
_PROTOCOLS = ('A', 'B')


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _first(value) -> float:
    """Scalar of a per-instance field stored with a leading instance axis, e.g. ``(1,)``."""
    return float(_to_numpy(value).reshape(-1)[0])


@METRICS.register_module()
class MeshMetric(BaseMetric):
    """Joint and vertex errors of predicted SMPL-topology meshes, in millimetres.

    **Protocol A** (METRO / FastMETRO / PostoMETRO / SPIN; SPEC 4.3): 14 joints regressed with
    the H36M regressor (``H36M17_TO_J14``) from the predicted mesh and from the ground-truth
    mesh (built from the gendered SMPL parameters), both centred on their mid-hip (mean of J14
    joints 2 and 3). ``MPJPE``; ``PA-MPJPE`` after a per-sample similarity Procrustes on the 14
    joints; ``MPVPE`` on all vertices with each mesh centred on its own H36M pelvis;
    ``PA-MPVPE`` after a similarity Procrustes on all vertices.

    **Protocol B** (VQ-HPS / MEGA; SPEC 4.4): both meshes centred on their vertex mean, the 17
    H36M joints regressed from them and compared without pelvis subtraction: ``B/MPJPE``,
    ``B/PA-MPJPE``, ``B/MPVPE``. (Its PA-MPVPE would equal protocol A's, as a similarity
    alignment does not depend on centring, so it is not repeated.)

    Samples without SMPL ground truth (``has_smpl == 0``) but with 3D joints (``has_3d == 1``)
    are evaluated under protocol A on ``joints_3d`` (J24 -> J14, mid-hip centred, invisible
    joints excluded); their vertex metrics and protocol B are skipped. Samples with neither
    are skipped entirely. The counts are logged (and written with ``outfile_prefix``).

    Per-sample errors are computed in :meth:`process` (GT meshes built there in one
    body-model call per batch), so only a few small arrays per sample are gathered across
    ranks; mmengine's result collection keeps exactly one entry per dataset sample.

    Args:
        body_model (dict): config of a ``GenderedSMPL`` (``pose (B,72), betas (B,10), gender
            (B,) -> vertices (B,V,3)``), e.g. ``dict(type='GenderedSMPL', model_path=...)``.
        joint_regressor (str): path to ``J_regressor_h36m_correct.npy`` (17 x V).
        protocols (Sequence[str]): any of ``'A'``, ``'B'``. Defaults to ``('A', 'B')``.
        per_joint (bool): also report the error of every joint (keys
            ``per_joint/MPJPE/<joint>`` and ``per_joint/PA-MPJPE/<joint>``, ``B/`` in front
            for protocol B). Defaults to False.
        per_sequence (bool): also report every metric per ``seq_name`` (keys
            ``seq/<seq_name>/<metric>``). Defaults to False.
        outfile_prefix (str, optional): if given, write ``<prefix>_per_sample.npz`` (ids,
            sequence names and every per-sample / per-joint error in mm, NaN where not
            evaluated) and ``<prefix>_metrics.json`` (metrics and sample counts).
        collect_device (str): ``'cpu'`` or ``'gpu'`` for gathering results across ranks.
        prefix (str, optional): prefix of every key, e.g. ``'3dpw'`` -> ``3dpw/MPJPE``.
    """
    default_prefix: Optional[str] = None

    def __init__(self,
                 body_model: dict,
                 joint_regressor: str,
                 protocols: Sequence[str] = _PROTOCOLS,
                 per_joint: bool = False,
                 per_sequence: bool = False,
                 outfile_prefix: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        protocols = tuple(protocols)
        unknown = [p for p in protocols if p not in _PROTOCOLS]
        if not protocols or unknown:
            raise ValueError(f'MeshMetric: protocols must be a non-empty subset of '
                             f'{_PROTOCOLS}, got {protocols}')
        self.protocols = protocols
        self.body_model = MODELS.build(body_model).eval()
        self.h36m_regressor = _to_numpy(load_joint_regressor(joint_regressor)).astype(
            np.float64)  # (17, V)
        if self.h36m_regressor.shape[0] != len(H36M17_NAMES):
            raise ValueError(f'MeshMetric: joint_regressor "{joint_regressor}" has '
                             f'{self.h36m_regressor.shape[0]} rows, expected the 17 H36M '
                             'joints (J_regressor_h36m_correct.npy)')
        self.per_joint = per_joint
        self.per_sequence = per_sequence
        self.outfile_prefix = outfile_prefix

    # ------------------------------------------------------------------ per batch
    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Compute the per-sample errors of a batch and append one result per sample.

        Args:
            data_batch: unused (everything comes from the data samples).
            data_samples (Sequence[dict]): ``PoseDataSample.to_dict()`` outputs holding
                ``pred_instances.vertices`` (1, V, 3) m, ``gt_instances`` with ``smpl_pose``,
                ``smpl_betas``, ``gender``, ``has_smpl``, ``has_3d``, ``joints_3d``,
                ``joints_3d_visible``, and metainfo ``id`` / ``seq_name``.
        """
        num_verts = self.h36m_regressor.shape[1]
        results = []
        pred_verts = []
        smpl_rows, joint_rows = [], []
        for i, sample in enumerate(data_samples):
            gt = sample['gt_instances']
            verts = _to_numpy(sample['pred_instances']['vertices']).astype(np.float64)
            if verts.ndim == 3:
                verts = verts[0]
            if verts.shape != (num_verts, 3):
                raise ValueError(f'MeshMetric: pred_instances.vertices of sample '
                                 f'{sample.get("id")} has shape {verts.shape}, expected '
                                 f'(1, {num_verts}, 3) to match the joint regressor')
            pred_verts.append(verts)
            has_smpl = 'has_smpl' in gt and _first(gt['has_smpl']) > 0
            has_3d = 'has_3d' in gt and _first(gt['has_3d']) > 0
            has_3d = has_3d and 'A' in self.protocols  # joints_3d only serve protocol A
            source = 'smpl' if has_smpl else 'joints_3d' if has_3d else 'none'
            results.append(self._empty_result(sample, source))
            if has_smpl:
                smpl_rows.append(i)
            elif has_3d:
                joint_rows.append(i)
        pred_verts = np.stack(pred_verts)
        pred_h36m = np.einsum('jv,nvc->njc', self.h36m_regressor, pred_verts)

        if smpl_rows:
            self._process_smpl(
                [data_samples[i]['gt_instances'] for i in smpl_rows], pred_verts[smpl_rows],
                pred_h36m[smpl_rows], [results[i] for i in smpl_rows])
        if joint_rows:
            self._process_joints_3d([data_samples[i]['gt_instances'] for i in joint_rows],
                                    pred_h36m[joint_rows], [results[i] for i in joint_rows])
        self.results.extend(results)

    def _empty_result(self, sample: dict, source: str) -> dict:
        nan14, nan17 = np.full(14, np.nan), np.full(17, np.nan)
        result = dict(id=sample.get('id'), seq_name=sample.get('seq_name'), source=source)
        if 'A' in self.protocols:
            result.update({'A/joint': nan14, 'A/pa_joint': nan14.copy(), 'A/mpvpe': np.nan,
                           'A/pa_mpvpe': np.nan})
        if 'B' in self.protocols:
            result.update({'B/joint': nan17, 'B/pa_joint': nan17.copy(), 'B/mpvpe': np.nan})
        return result

    @torch.no_grad()
    def _gt_meshes(self, gts: List[dict]) -> np.ndarray:
        """Ground-truth vertices ``(N, V, 3)`` (m) from gendered SMPL parameters, one call."""
        pose = np.stack([_to_numpy(g['smpl_pose']).reshape(72) for g in gts])
        betas = np.stack([_to_numpy(g['smpl_betas']).reshape(-1)[:10] for g in gts])
        gender = np.array([gender_to_index(_to_numpy(g['gender']).reshape(-1)[0].item())
                           for g in gts], dtype=np.int64)
        verts = self.body_model(
            torch.from_numpy(pose).float(), torch.from_numpy(betas).float(),
            torch.from_numpy(gender))
        return _to_numpy(verts).astype(np.float64)

    def _process_smpl(self, gts: List[dict], pred_verts: np.ndarray, pred_h36m: np.ndarray,
                      results: List[dict]) -> None:
        gt_verts = self._gt_meshes(gts)
        if gt_verts.shape != pred_verts.shape:
            raise ValueError(f'MeshMetric: body model gives meshes of shape '
                             f'{gt_verts.shape[1:]}, predictions have {pred_verts.shape[1:]}')
        gt_h36m = np.einsum('jv,nvc->njc', self.h36m_regressor, gt_verts)
        per_sample = {}
        if 'A' in self.protocols:
            pred_j14 = _center_mid_hip(pred_h36m[:, H36M17_TO_J14])
            gt_j14 = _center_mid_hip(gt_h36m[:, H36M17_TO_J14])
            pred_v = pred_verts - pred_h36m[:, H36M17_PELVIS_INDEX:H36M17_PELVIS_INDEX + 1]
            gt_v = gt_verts - gt_h36m[:, H36M17_PELVIS_INDEX:H36M17_PELVIS_INDEX + 1]
            per_sample['A/joint'] = point_errors(pred_j14, gt_j14)
            per_sample['A/pa_joint'] = point_errors(
                similarity_procrustes(pred_j14, gt_j14), gt_j14)
            per_sample['A/mpvpe'] = point_errors(pred_v, gt_v).mean(axis=1)
            per_sample['A/pa_mpvpe'] = point_errors(
                similarity_procrustes(pred_v, gt_v), gt_v).mean(axis=1)
        if 'B' in self.protocols:
            pred_mean = pred_verts.mean(axis=1, keepdims=True)
            gt_mean = gt_verts.mean(axis=1, keepdims=True)
            # The regressor rows sum to one, so regressing centred vertices = centring joints.
            pred_j17 = pred_h36m - pred_mean
            gt_j17 = gt_h36m - gt_mean
            per_sample['B/joint'] = point_errors(pred_j17, gt_j17)
            per_sample['B/pa_joint'] = point_errors(
                similarity_procrustes(pred_j17, gt_j17), gt_j17)
            per_sample['B/mpvpe'] = point_errors(pred_verts - pred_mean,
                                                 gt_verts - gt_mean).mean(axis=1)
        for n, result in enumerate(results):
            for key, values in per_sample.items():
                result[key] = values[n] * _M_TO_MM

    def _process_joints_3d(self, gts: List[dict], pred_h36m: np.ndarray,
                           results: List[dict]) -> None:
        gt_j14 = np.stack([_to_numpy(g['joints_3d']).reshape(24, -1)[J24_TO_J14, :3]
                           for g in gts]).astype(np.float64)
        if all('joints_3d_visible' in g for g in gts):
            visible = np.stack([_to_numpy(g['joints_3d_visible']).reshape(24)[J24_TO_J14]
                                for g in gts]) > 0
        else:
            visible = np.ones(gt_j14.shape[:2], dtype=bool)
        # A sample needs both hips (the root) and a third joint for the Procrustes fit.
        usable = visible[:, list(J14_HIP_INDICES)].all(axis=1) & (visible.sum(axis=1) >= 3)
        for n in np.nonzero(~usable)[0]:
            results[n]['source'] = 'none'
        if not usable.any():
            return
        rows = np.nonzero(usable)[0]
        pred_j14 = _center_mid_hip(pred_h36m[rows][:, H36M17_TO_J14])
        gt_rel = _center_mid_hip(gt_j14[rows])
        vis = visible[rows]
        err = np.where(vis, point_errors(pred_j14, gt_rel), np.nan)
        pa_err = np.where(vis,
                          point_errors(similarity_procrustes(pred_j14, gt_rel, vis), gt_rel),
                          np.nan)
        for n, row in enumerate(rows):
            results[row]['A/joint'] = err[n] * _M_TO_MM
            results[row]['A/pa_joint'] = pa_err[n] * _M_TO_MM

    # ------------------------------------------------------------------ summary
    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Average the per-sample errors (mm); see the class docstring for the keys."""
        counts = OrderedDict(
            samples=len(results),
            smpl=sum(r['source'] == 'smpl' for r in results),
            joints_3d_only=sum(r['source'] == 'joints_3d' for r in results),
            skipped=sum(r['source'] == 'none' for r in results))
        metrics = OrderedDict()
        if not results:
            print_log('MeshMetric: no result to evaluate', logger='current', level='WARNING')
            return metrics
        metrics.update(self._summarise(results, ''))
        if self.per_joint:
            metrics.update(self._per_joint(results))
        if self.per_sequence:
            groups = defaultdict(list)
            for r in results:
                groups[r['seq_name']].append(r)
            for seq_name in sorted(groups, key=str):
                metrics.update(self._summarise(groups[seq_name], f'seq/{seq_name}/'))
        if not metrics:
            print_log('MeshMetric: no sample has 3D ground truth; no metric computed',
                      logger='current', level='WARNING')
        print_log(
            f'MeshMetric{" (" + self.prefix + ")" if self.prefix else ""}: '
            f'{counts["samples"]} samples; {counts["smpl"]} with SMPL ground truth (all '
            f'metrics); {counts["joints_3d_only"]} with 3D joints only (protocol-A MPJPE / '
            f'PA-MPJPE from joints_3d, vertex metrics and protocol B skipped); '
            f'{counts["skipped"]} without usable 3D ground truth (skipped)',
            logger='current')
        if self.outfile_prefix is not None:
            self._dump(results, metrics, counts)
        return metrics

    def _summarise(self, results: List[dict], key_prefix: str) -> Dict[str, float]:
        out = OrderedDict()
        for protocol in self.protocols:
            tag = key_prefix + ('' if protocol == 'A' else f'{protocol}/')
            joint = _masked_row_means(np.stack([r[f'{protocol}/joint'] for r in results]))
            pa_joint = _masked_row_means(
                np.stack([r[f'{protocol}/pa_joint'] for r in results]))
            vertex_keys = [('MPVPE', f'{protocol}/mpvpe')]
            if protocol == 'A':
                vertex_keys.append(('PA-MPVPE', 'A/pa_mpvpe'))
            for name, values in [('MPJPE', joint), ('PA-MPJPE', pa_joint)] + [
                    (name, np.array([r[key] for r in results])) for name, key in vertex_keys
            ]:
                valid = ~np.isnan(values)
                if valid.any():
                    out[tag + name] = float(values[valid].mean())
        return out

    def _per_joint(self, results: List[dict]) -> Dict[str, float]:
        out = OrderedDict()
        for protocol in self.protocols:
            names = J14_NAMES if protocol == 'A' else H36M17_NAMES
            tag = '' if protocol == 'A' else f'{protocol}/'
            for metric, key in [('MPJPE', 'joint'), ('PA-MPJPE', 'pa_joint')]:
                errors = np.stack([r[f'{protocol}/{key}'] for r in results])
                for j, name in enumerate(names):
                    valid = ~np.isnan(errors[:, j])
                    if valid.any():
                        out[f'{tag}per_joint/{metric}/{name}'] = float(errors[valid, j].mean())
        return out

    def _dump(self, results: List[dict], metrics: Dict[str, float], counts: dict) -> None:
        out_dir = osp.dirname(self.outfile_prefix)
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
        arrays = dict(
            id=np.array([str(r['id']) for r in results]),
            seq_name=np.array([str(r['seq_name']) for r in results]),
            source=np.array([r['source'] for r in results]))
        for key in results[0]:
            if key not in arrays:
                arrays[key.replace('/', '_')] = np.stack(
                    [np.asarray(r[key], dtype=np.float64) for r in results])
        np.savez(f'{self.outfile_prefix}_per_sample.npz', **arrays)
        with open(f'{self.outfile_prefix}_metrics.json', 'w') as f:
            json.dump(dict(prefix=self.prefix, unit='mm', counts=counts, metrics=metrics),
                      f, indent=2)


def _center_mid_hip(joints: np.ndarray) -> np.ndarray:
    """Subtract the mean of the two J14 hips from ``(N, 14, 3)`` joints."""
    return joints - joints[:, list(J14_HIP_INDICES)].mean(axis=1, keepdims=True)


def _masked_row_means(errors: np.ndarray) -> np.ndarray:
    """Per-sample mean over non-NaN joints of ``(N, J)``; NaN for samples with none."""
    valid = ~np.isnan(errors)
    count = valid.sum(axis=1)
    total = np.where(valid, errors, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)
