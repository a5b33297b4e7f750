"""Bad inputs raise errors that name the file/record and the expectation; ``skip_invalid``
skips the bad records with one warning that counts them."""
import json
import os
import pickle
import shutil
import warnings

import numpy as np
import pytest
from mesh_data_builders import write_tsv

from postometro_mm.datasets import (InvalidAnnotationError, METROTSVDataset, PW3DDataset,
                                    SPINNpzDataset, TSVFile)
from postometro_mm.datasets.converters import convert_oh3d, convert_pw3d
from postometro_mm.datasets.transforms import LoadMeshImage


def spin_copy(spin_npz_set, tmp_path, **changes):
    arrays = dict(spin_npz_set['arrays'])
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    path = str(tmp_path / 'bad.npz')
    np.savez(path, **arrays)
    return path


def test_missing_annotation_file(tmp_path):
    path = str(tmp_path / 'nowhere.npz')
    with pytest.raises(FileNotFoundError, match='nowhere.npz'):
        SPINNpzDataset(ann_file=path)


def test_missing_key(spin_npz_set, tmp_path):
    path = spin_copy(spin_npz_set, tmp_path, center=None)
    with pytest.raises(KeyError, match='bad.npz.*"center"'):
        SPINNpzDataset(ann_file=path)
    path = spin_copy(spin_npz_set, tmp_path, shape=None)
    with pytest.raises(InvalidAnnotationError, match='"pose" without its partner'):
        SPINNpzDataset(ann_file=path)


def test_wrong_shape(spin_npz_set, tmp_path):
    path = spin_copy(spin_npz_set, tmp_path, part=spin_npz_set['arrays']['part'][:, :, :2])
    with pytest.raises(InvalidAnnotationError,
                       match=r'bad.npz: key "part" has shape \(5, 24, 2\), expected \(5, 24, 3\)'):
        SPINNpzDataset(ann_file=path)


def test_nan_record_raises_or_is_skipped(spin_npz_set, tmp_path):
    center = spin_npz_set['arrays']['center'].copy()
    center[2, 0] = np.nan
    pose = spin_npz_set['arrays']['pose'].copy()
    pose[3, 5] = np.inf
    path = spin_copy(spin_npz_set, tmp_path, center=center, pose=pose)
    with pytest.raises(InvalidAnnotationError, match=r'bad.npz: record 2: non-finite center'):
        SPINNpzDataset(ann_file=path)
    with pytest.warns(UserWarning, match=r'skipped 2 of 5 records') as record:
        dataset = SPINNpzDataset(ann_file=path, skip_invalid=True)
    assert len(record) == 1
    assert [dataset.get_data_info(i)['id'] for i in range(len(dataset))] == [0, 1, 4]


def test_empty_annotations_are_named(spin_npz_set, tmp_path):
    from postometro_mm.datasets.converters.pw3d import PW3D_COLUMNS
    empty = tmp_path / 'pw3d_occ.npz'  # what the 3DPW converter writes for a split with none
    np.savez(empty, **{key: np.zeros((0, *shape), dtype) for key, (shape, dtype)
                       in PW3D_COLUMNS.items()})
    with pytest.raises(InvalidAnnotationError, match=r'pw3d_occ\.npz: holds no records'):
        PW3DDataset(ann_file=str(empty))
    # every record invalid and skipped, or none selected by the subset filters
    center = np.full_like(spin_npz_set['arrays']['center'], np.nan)
    path = spin_copy(spin_npz_set, tmp_path, center=center)
    with pytest.warns(UserWarning, match='skipped 5 of 5'), pytest.raises(
            InvalidAnnotationError, match=r'bad\.npz: no record to use: 5 records, 0 valid'):
        SPINNpzDataset(ann_file=path, skip_invalid=True)
    with pytest.raises(InvalidAnnotationError, match=r'5 valid.*0 selected by seq_prefixes'):
        SPINNpzDataset(ann_file=spin_npz_set['path'], seq_prefixes=['no_such_sequence'])


def test_mmpose_flip_is_refused_with_its_mesh_replacement(spin_npz_set):
    from mmpose.datasets.transforms import RandomFlip
    for step in (dict(type='RandomFlip', prob=0.5), dict(type='mmpose.RandomFlip', prob=0.5),
                 RandomFlip(prob=0.5)):
        with pytest.raises(ValueError, match=r'step 1 \(RandomFlip\).*use MeshRandomFlip'):
            SPINNpzDataset(ann_file=spin_npz_set['path'],
                           pipeline=[dict(type='LoadMeshImage'), step])
    dataset = SPINNpzDataset(ann_file=spin_npz_set['path'],
                             pipeline=[dict(type='LoadMeshImage'),
                                       dict(type='MeshRandomFlip', prob=0.5)])
    assert len(dataset) == len(spin_npz_set['arrays']['imgname'])


def test_corrupted_and_missing_images(spin_npz_set, tmp_path):
    root = tmp_path / 'images'
    shutil.copytree(spin_npz_set['root'], root)
    image = root / spin_npz_set['arrays']['imgname'][1]
    image.write_bytes(b'\xff\xd8 this is not a jpeg')
    os.remove(root / spin_npz_set['arrays']['imgname'][2])
    dataset = SPINNpzDataset(ann_file=spin_npz_set['path'], data_prefix=dict(img=str(root)),
                             pipeline=[dict(type='LoadMeshImage')], test_mode=True)
    with pytest.raises(Exception, match=r'spin_npz record 1 \(image ".*frame_0001.jpg"\)'):
        dataset[1]
    with pytest.raises(Exception, match=r'spin_npz record 2 \(image ".*frame_0002.jpg"\)'):
        dataset[2]
    with pytest.raises(ValueError, match=r'tsv row 7.*cannot be decoded'):
        LoadMeshImage()(dict(img_bytes=b'garbage', id=3, dataset_name='metro_tsv',
                             img_source='x.img.tsv row 7'))


def _broken_tsv(metro_tsv_set, tmp_path, label_row_1: str):
    folder = tmp_path / 'tsv'
    shutil.copytree(os.path.dirname(metro_tsv_set['sets']['set_a']['yaml']), folder)
    rows = [TSVFile(str(folder / 'train.label.tsv')).read_row(i) for i in range(4)]
    rows[2][1] = label_row_1
    write_tsv(str(folder / 'train.label.tsv'), rows)
    return str(folder / 'train.yaml')


def test_bad_tsv_label_rows(metro_tsv_set, tmp_path):
    label = json.loads(TSVFile(metro_tsv_set['sets']['set_a']['yaml'].replace(
        'train.yaml', 'train.label.tsv')).read_row(2)[1])
    label[0]['3d_joints'][4][1] = float('nan')
    yaml_file = _broken_tsv(metro_tsv_set, tmp_path, json.dumps(label))
    dataset = METROTSVDataset(ann_file=yaml_file)          # lazy: nothing parsed yet
    with pytest.raises(InvalidAnnotationError,
                       match=r'train.label.tsv row 2 \(key "courtyard_box_00/image_00002.jpg"\)'
                       r': label "3d_joints" holds NaN'):
        dataset.get_data_info(1)
    with pytest.warns(UserWarning, match='skipped 1 of 3 records'):
        skipping = METROTSVDataset(ann_file=yaml_file, skip_invalid=True)
    assert len(skipping) == 2

    label[0]['3d_joints'] = label[0]['3d_joints'][:20]
    yaml_file = _broken_tsv(metro_tsv_set, tmp_path / 'b', json.dumps(label))
    with pytest.raises(InvalidAnnotationError, match=r'"3d_joints" has shape \(20, 4\), '
                                                     r'expected \(24, 4\)'):
        METROTSVDataset(ann_file=yaml_file).get_data_info(1)
    yaml_file = _broken_tsv(metro_tsv_set, tmp_path / 'c', '{not json')
    with pytest.raises(InvalidAnnotationError, match='row 2.*not valid JSON'):
        METROTSVDataset(ann_file=yaml_file).get_data_info(1)


def test_bad_tsv_files(metro_tsv_set, tmp_path):
    folder = tmp_path / 'tsv'
    shutil.copytree(os.path.dirname(metro_tsv_set['sets']['set_a']['yaml']), folder)
    os.remove(folder / 'train.img.lineidx')
    with pytest.raises(FileNotFoundError, match=r'line index of TSV file ".*train.img.tsv"'):
        METROTSVDataset(ann_file=str(folder / 'train.yaml'))
    (folder / 'train.img.lineidx').write_text('0\n999999999\n')
    with pytest.raises(InvalidAnnotationError, match='does not belong to this TSV'):
        METROTSVDataset(ann_file=str(folder / 'train.yaml'))
    (folder / 'other.yaml').write_text('img: missing.img.tsv\nlabel: train.label.tsv\n')
    with pytest.raises(FileNotFoundError, match=r'other.yaml: the "img" file "missing.img.tsv"'):
        METROTSVDataset(ann_file=str(folder / 'other.yaml'))


def test_converters_name_bad_annotations(pw3d_root, oh3d_root, tmp_path):
    seq_root = tmp_path / '3DPW'
    (seq_root / 'sequenceFiles' / 'test').mkdir(parents=True)
    with open(seq_root / 'sequenceFiles' / 'test' / 'broken_00.pkl', 'wb') as f:
        pickle.dump(dict(sequence='broken_00', poses=[]), f, protocol=2)
    with pytest.raises(KeyError, match=r'broken_00.pkl: required key "genders"'):
        convert_pw3d(str(seq_root), str(tmp_path / 'out'), splits=('test', ), progress=False)
    with open(pw3d_root['root'] + '/sequenceFiles/validation/courtyard_jumpBench_01.pkl',
              'rb') as f:
        skewed = pickle.load(f, encoding='latin1')
    skewed['cam_intrinsics'] = np.array([[1000.0, 3.0, 540], [0, 1000.0, 960], [0, 0, 1]])
    with open(seq_root / 'sequenceFiles' / 'test' / 'broken_00.pkl', 'wb') as f:
        pickle.dump(skewed, f, protocol=2)
    with pytest.raises(InvalidAnnotationError,
                       match=r'broken_00.pkl: "cam_intrinsics": expected pinhole intrinsics'):
        convert_pw3d(str(seq_root), str(tmp_path / 'out'), splits=('test', ), progress=False)

    root = tmp_path / '3DOH50K'
    shutil.copytree(oh3d_root['root'], root)
    annots = dict(oh3d_root['annots'])
    annots['00001'] = {k: v for k, v in annots['00001'].items() if k != 'intri'}
    annots['00002'] = dict(annots['00002'], betas=[[0.0] * 9])
    (root / 'testset' / 'annots.json').write_text(json.dumps(annots))
    with pytest.raises(KeyError, match=r'annotation "00001": required key "intri"'):
        convert_oh3d(str(root), str(tmp_path / 'out3doh'), splits=('test', ), progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        counts = convert_oh3d(str(root), str(tmp_path / 'out3doh'), splits=('test', ),
                              skip_invalid=True, progress=False)
    assert counts == {'test': 2}
    messages = [str(w.message) for w in caught if 'skipped' in str(w.message)]
    assert len(messages) == 1 and 'skipped 2 of 4 records' in messages[0]
