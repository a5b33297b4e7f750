"""MeshInferencer (many people, batched crops), person-box selection, inputs and exports."""
import cv2
import numpy as np
import pytest

from postometro_mm.apis import (InferenceInputError, MeshInferencer, inference_mesh, load_obj,
                                load_ply, open_source, prediction_records, save_person_meshes)
from postometro_mm.apis.mesh_inferencer import select_person_boxes


@pytest.fixture(scope='module')
def inferencer(tiny_model):
    return MeshInferencer(tiny_model, batch_size=2)


def _image(seed=0, h=96, w=128):
    return (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)


def test_person_box_selection():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 70], [0, 0, 5, 5],
                      [30, 0, 40, 10]], np.float32)
    scores = np.array([0.6, 0.9, 0.5, 0.95, 0.2])
    labels = np.array([0, 0, 0, 2, 0])
    out = select_person_boxes(boxes, scores, labels, cat_ids=[0], bbox_thr=0.3, nms_thr=0.3)
    # box 3 is not a person, box 4 scores too low, box 0 overlaps the better box 1 (IoU 0.7)
    np.testing.assert_allclose(out[:, :4], boxes[[1, 2]])
    np.testing.assert_allclose(out[:, 4], [0.9, 0.5])
    both = select_person_boxes(boxes, scores, labels, cat_ids=[0, 2], bbox_thr=0.0,
                               nms_thr=1.0, max_persons=3)
    np.testing.assert_allclose(both[:, 4], [0.95, 0.9, 0.6])
    assert select_person_boxes(boxes, scores, labels, [0], 0.99, 0.3).shape == (0, 5)


def test_many_people_merged_into_one_sample(inferencer, tiny_model):
    image = _image()
    boxes = [[5, 5, 50, 90], [40, 10, 90, 95], [80, 0, 127, 60]]
    merged = inferencer.predict(image, boxes)
    single = inference_mesh(tiny_model, image, boxes)
    pred = merged.pred_instances
    assert len(pred) == 3 and pred.vertices.shape[0] == 3
    for i, sample in enumerate(single):
        np.testing.assert_allclose(pred.vertices[i], sample.pred_instances.vertices[0],
                                   atol=1e-5)
        np.testing.assert_allclose(pred.camera_translation[i],
                                   sample.pred_instances.camera_translation[0], rtol=1e-5)
    assert merged.metainfo['ori_shape'] == (96, 128)
    vis = inferencer.visualize(image, merged, side_view=True, pose_2d=True)
    assert vis.shape == (96, 3 * 128, 3)
    assert np.any(vis[:, :128] != image[..., ::-1])  # meshes drawn over the RGB image

    records = prediction_records(merged)
    assert [p['bbox'] for p in records['people']] == boxes
    assert len(records['people'][0]['keypoints_3d']) == 14
    assert len(records['people'][0]['decoded_keypoints']) == 17
    empty = inferencer.predict(image, np.zeros((0, 4)))
    assert len(empty.pred_instances) == 0 and prediction_records(empty)['people'] == []
    np.testing.assert_array_equal(inferencer.visualize(image, empty), image[..., ::-1])


def test_person_meshes_written_in_both_spaces(inferencer, tmp_path):
    sample = inferencer.predict(_image(1), [[5, 5, 60, 90], [50, 10, 120, 90]])
    pred = sample.pred_instances
    written = save_person_meshes(sample, inferencer.faces, str(tmp_path / 'cam'), ['obj', 'ply'])
    for i, (obj, ply) in enumerate(written):
        vertices, faces = load_obj(obj)
        np.testing.assert_allclose(vertices, pred.vertices[i] + pred.camera_translation[i],
                                   rtol=1e-6)
        np.testing.assert_array_equal(faces, inferencer.faces)
        np.testing.assert_array_equal(load_ply(ply)[0], vertices)
    (root_obj, ), _ = save_person_meshes(sample, inferencer.faces, str(tmp_path / 'root'),
                                         ['obj'], space='root')
    np.testing.assert_array_equal(load_obj(root_obj)[0], pred.vertices[0])
    with pytest.raises(ValueError, match='space'):
        save_person_meshes(sample, inferencer.faces, str(tmp_path / 'x'), ['obj'], 'world')


def test_frame_sources(tmp_path):
    folder = tmp_path / 'images'
    folder.mkdir()
    cv2.imwrite(str(folder / 'a.png'), _image(0, 20, 30))
    (folder / 'b.jpg').write_bytes(b'not an image')
    cv2.imwrite(str(folder / 'c.png'), _image(1, 20, 30))
    (folder / 'notes.txt').write_text('ignored')
    frames = list(open_source(str(folder)))
    assert [f.name for f in frames] == ['a', 'b', 'c']
    assert frames[1].image is None and 'b.jpg' in frames[1].error
    assert frames[2].image.shape == (20, 30, 3)
    assert len(list(open_source(str(folder), max_frames=1))) == 1

    video = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 5, (32, 24))
    for i in range(4):
        writer.write(np.full((24, 32, 3), 60 * i, np.uint8))
    writer.release()
    source = open_source(video)
    assert (source.kind, source.num_frames, source.fps) == ('video', 4, 5)
    assert [f.index for f in source] == [0, 1, 2, 3]
    assert len(list(open_source(video, max_frames=2))) == 2

    (tmp_path / 'broken.mp4').write_bytes(b'\x00' * 64)
    with pytest.raises(InferenceInputError, match='broken.mp4.*cannot be opened'):
        open_source(str(tmp_path / 'broken.mp4'))
    with pytest.raises(InferenceInputError, match='b.jpg.*cannot be decoded'):
        open_source(str(folder / 'b.jpg'))
    with pytest.raises(InferenceInputError, match='unknown file type ".txt"'):
        open_source(str(folder / 'notes.txt'))
    with pytest.raises(InferenceInputError, match='does not exist'):
        open_source(str(tmp_path / 'missing.jpg'))
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(InferenceInputError, match='has no images'):
        open_source(str(empty))
    with pytest.raises(InferenceInputError, match='webcam:<number>'):
        open_source('webcam:front')


def test_inferencer_runs_over_a_folder(inferencer, tmp_path):
    cv2.imwrite(str(tmp_path / 'one.png'), _image(2))
    (tmp_path / 'two.jpg').write_bytes(b'broken')
    results = list(inferencer(str(tmp_path), side_view=True))
    assert [r['frame'].name for r in results] == ['one', 'two']
    assert results[0]['visualization'].shape == (96, 256, 3)
    assert len(results[0]['predictions'].pred_instances) == 1
    assert results[1]['predictions'] is None and 'two.jpg' in results[1]['error']


@pytest.mark.parametrize('max_persons', [0, -2])
def test_max_persons_below_one_is_refused(max_persons):
    from postometro_mm.apis import PersonDetector
    with pytest.raises(InferenceInputError, match=f'max_persons must be at least 1.*{max_persons}'):
        PersonDetector('rtmdet/rtmdet_tiny_8xb32-300e_coco.py', max_persons=max_persons)


def _video(path, num_frames, h=96, w=128):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, (w, h))
    for i in range(num_frames):
        writer.write(_image(20 + i, h, w))
    writer.release()
    return str(path)


def _batch_sizes(monkeypatch):
    """Record the number of crops of every predict_crops call of the inferencer."""
    from postometro_mm.apis import mesh_inferencer
    sizes = []
    original = mesh_inferencer.predict_crops

    def recording(model, crops, *args, **kwargs):
        sizes.append(len(crops))
        return original(model, crops, *args, **kwargs)

    monkeypatch.setattr(mesh_inferencer, 'predict_crops', recording)
    return sizes


@pytest.mark.parametrize('workers', [1, 2])
def test_overlapped_frames_give_the_frame_by_frame_results(tiny_model, tmp_path, monkeypatch,
                                                           workers):
    """Crops of consecutive frames share batches (2 boxes a frame, batch 3: 4 + 4 + 2 crops
    over 5 frames), run by 1 or 2 concurrent workers, and the results equal frame-by-frame
    inference, in frame order, with an unreadable image in between kept in its place."""
    folder = tmp_path / 'frames'
    folder.mkdir()
    for i in range(5):
        cv2.imwrite(str(folder / f'f{i}.png'), _image(30 + i))
    (folder / 'f2b.jpg').write_bytes(b'broken')
    boxes = np.array([[0, 0, 60, 90], [40, 10, 120, 95]], np.float32)
    inferencer = MeshInferencer(tiny_model, batch_size=3, workers=workers)
    expected = list(inferencer(str(folder), bboxes=boxes, overlap=False, return_vis=False))
    sizes = _batch_sizes(monkeypatch)
    got = list(inferencer(str(folder), bboxes=boxes, return_vis=False))
    assert sorted(sizes) == [2, 4, 4]
    assert [r['frame'].name for r in got] == ['f0', 'f1', 'f2', 'f2b', 'f3', 'f4']
    assert got[3]['predictions'] is None and 'f2b.jpg' in got[3]['error']
    for ours, ref in zip(got, expected):
        if ref['predictions'] is None:
            continue
        a, b = ours['predictions'].pred_instances, ref['predictions'].pred_instances
        assert set(a.keys()) == set(b.keys()) and len(a) == 2
        for key in a.keys():
            np.testing.assert_allclose(a[key], b[key], rtol=1e-6, atol=1e-5, err_msg=key)
        assert ours['predictions'].img_path == ref['predictions'].img_path


def test_webcam_frames_are_not_held_back_for_a_batch(tiny_model, tmp_path, monkeypatch):
    from postometro_mm.apis import FrameSource
    video = _video(tmp_path / 'clip.avi', 4)
    capture = cv2.VideoCapture(video)
    ok, first = capture.read()
    live = FrameSource('webcam', 'webcam', capture=capture, first_frame=first, fps=10.0)
    sizes = _batch_sizes(monkeypatch)
    results = list(MeshInferencer(tiny_model, batch_size=8)(live, return_vis=False))
    assert [r['frame'].index for r in results] == [0, 1, 2, 3] and sizes == [1, 1, 1, 1]
    sizes.clear()
    results = list(MeshInferencer(tiny_model, batch_size=8)(video, return_vis=False))
    assert len(results) == 4 and sizes == [4]  # a video file fills the batch


def test_stopping_early_releases_the_threads(tiny_model, tmp_path):
    import threading
    video = _video(tmp_path / 'long.avi', 12)
    results = MeshInferencer(tiny_model, batch_size=2, workers=2)(video, return_vis=True)
    first = next(results)
    assert first['frame'].index == 0 and first['visualization'] is not None
    results.close()
    assert not [t.name for t in threading.enumerate() if t.name.startswith('mesh ')]


def test_an_inference_error_reaches_the_caller(tiny_model, tmp_path):
    video = _video(tmp_path / 'clip.avi', 3)
    with pytest.raises(InferenceInputError, match='box 0 .* has no area'):
        list(MeshInferencer(tiny_model)(video, bboxes=[[10, 10, 5, 50]]))
    with pytest.raises(ValueError, match='workers must be at least 1, got 0'):
        MeshInferencer(tiny_model, workers=0)


def test_a_worker_error_reaches_the_caller(tiny_model, tmp_path, monkeypatch):
    from postometro_mm.apis import mesh_inferencer

    def failing(*args, **kwargs):
        raise RuntimeError('the model failed on this batch')

    monkeypatch.setattr(mesh_inferencer, 'predict_crops', failing)
    video = _video(tmp_path / 'clip.avi', 3)
    with pytest.raises(RuntimeError, match='the model failed on this batch'):
        list(MeshInferencer(tiny_model, workers=2)(video))
