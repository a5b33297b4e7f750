"""METRO / FastMETRO TSV datasets (``*.img.tsv`` + ``*.label.tsv`` + yaml)."""
import base64
import binascii
import json
import os.path as osp
from typing import Any, Dict, List, Tuple, Union

import numpy as np
from mmpose.registry import DATASETS

from .base_mesh_dataset import BaseMeshDataset, build_mesh_data_info, parse_gender
from .keypoint_formats import seq_and_frame_from_imgname
from .tsv_io import CompositeTSVFile, TSVFile, read_composite_sequence, read_linelist
from .validation import (InvalidAnnotationError, InvalidRecordLog, check_shape,
                         read_mapping_file)

TSVSource = Union[TSVFile, CompositeTSVFile]


def _resolve(path: Any, root: str, yaml_file: str, key: str) -> str:
    """A path named in the yaml: absolute, else relative to the yaml's folder, else as given."""
    if not isinstance(path, str):
        raise InvalidAnnotationError(f'{yaml_file}: "{key}" should be a file path, got {path!r}')
    candidates = [path] if osp.isabs(path) else [osp.join(root, path), path]
    for candidate in candidates:
        if osp.isfile(candidate):
            return candidate
    raise FileNotFoundError(
        f'{yaml_file}: the "{key}" file "{path}" does not exist (looked in "{root}")')


@DATASETS.register_module()
class METROTSVDataset(BaseMeshDataset):
    """Mesh dataset over METRO/FastMETRO TSV files, described by their yaml file.

    The yaml holds ``img`` (``*.img.tsv``), ``label`` (``*.label.tsv``), optionally ``hw`` and
    ``linelist``, with paths relative to the yaml's folder. A composite yaml (``composite:
    true``) lists several TSVs per role (a yaml list, or a text file with one path per line)
    and a ``linelist`` of ``source_index<TAB>row_index`` lines. Each label row is
    ``key<TAB>[{...}]`` with ``center`` (px), ``scale`` (box side / 200), ``2d_joints``
    (24, 3), ``3d_joints`` (24, 4), ``pose`` (72), ``betas`` (10), ``has_2d_joints``,
    ``has_3d_joints``, ``has_smpl`` and optionally ``gender``; the first element is used.

    Samples carry ``img_bytes`` (the JPEG, base64-decoded), ``img_path`` = the row key and
    ``img_source`` (TSV file and row, for error messages); load the image with
    :class:`LoadMeshImage`. ``seq_name``/``frame_id`` are parsed from the key.

    Rows are read on demand through the ``.lineidx`` offsets. With ``skip_invalid=False``
    (default) nothing is parsed at start-up and a bad row raises when it is read, naming the
    TSV file, row and key; with ``skip_invalid=True`` every label row is checked once at
    start-up and the invalid ones are skipped with one warning.

    Args:
        ann_file (str): the yaml file.
        **kwargs: see :class:`BaseMeshDataset` (``data_prefix`` is unused).
    """

    METAINFO: dict = dict(dataset_name='metro_tsv')

    def _open_sources(self) -> Tuple[TSVSource, TSVSource, np.ndarray]:
        yaml_file = self.ann_file
        cfg = read_mapping_file(yaml_file, 'METRO TSV yaml file',
                                'a mapping with keys img, label')
        for key in ('img', 'label'):
            if key not in cfg:
                raise KeyError(f'{yaml_file}: required key "{key}" is missing (found keys: '
                               f'{sorted(cfg)})')
        root = osp.dirname(yaml_file)
        if cfg.get('composite', False):
            if 'linelist' not in cfg:
                raise KeyError(f'{yaml_file}: a composite yaml needs "linelist" (the '
                               'source_index<TAB>row_index sequence file)')
            seq_file = _resolve(cfg['linelist'], root, yaml_file, 'linelist')
            sequence = read_composite_sequence(seq_file)
            img = CompositeTSVFile(self._tsv_list(cfg['img'], root, yaml_file, 'img'),
                                   sequence, seq_file)
            label = CompositeTSVFile(self._tsv_list(cfg['label'], root, yaml_file, 'label'),
                                     sequence, seq_file)
            rows = np.arange(len(sequence), dtype=np.int64)
        else:
            img = TSVFile(_resolve(cfg['img'], root, yaml_file, 'img'))
            label = TSVFile(_resolve(cfg['label'], root, yaml_file, 'label'))
            if cfg.get('linelist'):
                rows = read_linelist(_resolve(cfg['linelist'], root, yaml_file, 'linelist'))
            else:
                rows = np.arange(len(label), dtype=np.int64)
            for tsv in (img, label):
                if len(rows) and rows.max() >= len(tsv):
                    raise InvalidAnnotationError(
                        f'{yaml_file}: the line list uses row {int(rows.max())}, but '
                        f'"{tsv.path}" has {len(tsv)} rows')
        return img, label, rows

    @staticmethod
    def _tsv_list(value: Any, root: str, yaml_file: str, key: str) -> List[str]:
        if isinstance(value, str):
            list_file = _resolve(value, root, yaml_file, key)
            with open(list_file, 'r', encoding='utf-8') as f:
                value = [line.strip() for line in f if line.strip()]
        if not isinstance(value, (list, tuple)) or not value:
            raise InvalidAnnotationError(
                f'{yaml_file}: composite "{key}" should list TSV files (a yaml list or a text '
                'file with one path per line)')
        return [_resolve(p, root, yaml_file, f'{key}[{i}]') for i, p in enumerate(value)]

    def _load_table(self) -> Tuple[Dict[str, Any], np.ndarray]:
        self._img_tsv, self._label_tsv, rows = self._open_sources()
        table: Dict[str, Any] = dict(row=rows)
        if self.has_filters():
            parsed = [seq_and_frame_from_imgname(self._label_tsv.read_key(int(r)))
                      for r in rows]
            table['seq_name'] = np.array([p[0] for p in parsed])
            table['frame_id'] = np.array([p[1] for p in parsed], dtype=np.int64)
        valid = np.ones(len(rows), dtype=bool)
        if self.skip_invalid:
            log = InvalidRecordLog(self._label_tsv.path, skip_invalid=True)
            for index, row in enumerate(rows):
                try:
                    self._parse_label(int(row))
                except InvalidAnnotationError as err:
                    log.add(index, str(err))
            log.finish(len(rows))
            valid[log.invalid_indices] = False
        return table, valid

    def _row_source(self, tsv: TSVSource, row: int) -> str:
        if isinstance(tsv, CompositeTSVFile):
            part, part_row = tsv.locate(row)
            return f'{part.path} row {part_row}'
        return f'{tsv.path} row {row}'

    def _parse_label(self, row: int) -> Dict[str, Any]:
        """Checked fields of label row ``row`` (raises InvalidAnnotationError naming it)."""
        source = self._row_source(self._label_tsv, row)
        columns = self._label_tsv.read_row(row)
        if len(columns) < 2:
            raise InvalidAnnotationError(f'{source}: expected "key<TAB>json label", got '
                                         f'{len(columns)} column(s)')
        key = columns[0]
        source = f'{source} (key "{key}")'
        try:
            labels = json.loads(columns[1])
        except json.JSONDecodeError as err:
            raise InvalidAnnotationError(f'{source}: label is not valid JSON ({err})') from None
        ann = labels[0] if isinstance(labels, list) and labels else labels
        if not isinstance(ann, dict):
            raise InvalidAnnotationError(
                f'{source}: expected a JSON list holding one dict of labels, got '
                f'{columns[1][:60]!r}')
        for name in ('center', 'scale'):
            if name not in ann:
                raise InvalidAnnotationError(f'{source}: label "{name}" is missing (found: '
                                             f'{sorted(ann)})')
        out: Dict[str, Any] = dict(key=key, gender=parse_gender(ann.get('gender', 'none'),
                                                                source))
        out['center'] = check_shape(ann['center'], (2, ), source, 'center')
        scale = check_shape(np.ravel(ann['scale']), (1, ), source, 'scale')[0]
        out['box_side'] = 200.0 * scale
        checks = [('center', out['center']), ('scale', scale)]
        for name, field, shape in (('2d_joints', 'has_2d_joints', (24, 3)),
                                   ('3d_joints', 'has_3d_joints', (24, 4))):
            present = name in ann and bool(ann.get(field, 1))
            values = None
            if present:
                values = check_shape(ann[name][0] if np.ndim(ann[name]) == 3 else ann[name],
                                     shape, source, name)
                checks.append((name, values))
            out[name] = values
        out['has_smpl'] = bool(ann.get('has_smpl', 0)) and 'pose' in ann and 'betas' in ann
        if out['has_smpl']:
            out['pose'] = check_shape(ann['pose'], (72, ), source, 'pose')
            out['betas'] = check_shape(ann['betas'], (10, ), source, 'betas')
            checks += [('pose', out['pose']), ('betas', out['betas'])]
        for name, values in checks:
            if not np.isfinite(values).all():
                raise InvalidAnnotationError(f'{source}: label "{name}" holds NaN or inf')
        if not out['box_side'] > 0:
            raise InvalidAnnotationError(f'{source}: label "scale" must be positive, got {scale}')
        return out

    def _read_image_bytes(self, row: int) -> bytes:
        source = self._row_source(self._img_tsv, row)
        columns = self._img_tsv.read_row(row)
        try:
            return base64.b64decode(columns[-1], validate=True)
        except (binascii.Error, ValueError) as err:
            raise InvalidAnnotationError(
                f'{source} (key "{columns[0]}"): image column is not valid base64 ({err})'
            ) from None

    def _make_data_info(self, index: int) -> Dict[str, Any]:
        row = int(self._table['row'][index])
        label = self._parse_label(row)
        seq_name, frame_id = seq_and_frame_from_imgname(label['key'])
        return build_mesh_data_info(
            center=label['center'], box_side=label['box_side'], joints_2d=label['2d_joints'],
            joints_3d=label['3d_joints'], smpl_pose=label.get('pose'),
            smpl_betas=label.get('betas'), has_smpl=label['has_smpl'], gender=label['gender'],
            keypoint_conf_thr=self.keypoint_conf_thr, img_bytes=self._read_image_bytes(row),
            img_path=label['key'], img_source=self._row_source(self._img_tsv, row),
            id=index, dataset_name=self.dataset_name, seq_name=seq_name, frame_id=frame_id)
