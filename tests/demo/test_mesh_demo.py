"""demo/mesh_demo.py end to end: detector / whole-image / user boxes, images, folders and a
video; output sizes, frame counts, JSON and meshes; clear messages for bad inputs."""
import json

import cv2
import numpy as np
import pytest
import torch

from postometro_mm.apis import inference_mesh, init_model, load_obj, load_ply

H, W = 96, 128  # the media fixture's image size
NUM_VIDEO_FRAMES = 3


def _video_frames(path):
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def _json(path):
    with open(path) as f:
        return json.load(f)


def _args(model_files, *extra):
    return [model_files['config'], model_files['checkpoint'], '--device', 'cpu', *extra]


def test_video_with_an_mmdet_detector(demo, model_files, media, detector_config, tmp_path,
                                      capsys):
    out = tmp_path / 'out'
    torch.manual_seed(0)  # random detector weights that give boxes (some seeds give none)
    code = demo.main(_args(
        model_files, '--input', media['video'], '--out-dir', str(out), '--det-config',
        detector_config, '--bbox-thr', '0', '--det-cat-ids', *map(str, range(80)),
        '--max-persons', '2', '--side-view', '--draw-pose-2d', '--save-mesh', 'obj', 'ply'))
    assert code == 0 and media['size'] == (H, W) and media['num_frames'] == NUM_VIDEO_FRAMES
    stdout = capsys.readouterr().out
    assert f'{NUM_VIDEO_FRAMES}/{NUM_VIDEO_FRAMES}' in stdout  # progress bar
    frames = _video_frames(str(out / 'clip.mp4'))
    assert len(frames) == NUM_VIDEO_FRAMES
    assert frames[0].shape == (H, 3 * W, 3)  # meshes | side view | decoded 2D pose
    result = _json(out / 'clip.json')
    assert [f['frame_index'] for f in result['frames']] == list(range(NUM_VIDEO_FRAMES))
    counts = [len(f['people']) for f in result['frames']]
    assert all(1 <= c <= 2 for c in counts)
    person = result['frames'][0]['people'][0]
    assert len(person['keypoints_3d']) == 14 and len(person['decoded_keypoints']) == 17
    assert person['bbox_score'] >= 0 and len(person['camera_translation']) == 3
    meshes = sorted(p.name for p in (out / 'meshes').iterdir())
    assert len(meshes) == 2 * sum(counts)
    assert 'clip_frame000002_person00.ply' in meshes
    vertices, faces = load_obj(str(out / 'meshes' / 'clip_frame000000_person00.obj'))
    np.testing.assert_array_equal(load_ply(str(out / 'meshes' /
                                               'clip_frame000000_person00.ply'))[0], vertices)
    # the mesh sits where the JSON says: its joints' mean depth is the camera translation's
    assert np.isclose(vertices[:, 2].mean(), person['camera_translation'][2], rtol=0.2)


def test_folder_with_whole_image_boxes_exports_the_predicted_meshes(demo, model_files, media,
                                                                     tmp_path):
    out = tmp_path / 'out'
    assert demo.main(_args(model_files, '--input', media['folder'], '--out-dir', str(out),
                           '--save-mesh', 'obj', 'ply')) == 0
    model = init_model(model_files['config'], model_files['checkpoint'], 'cpu')
    for name in ('person0', 'person1'):
        assert cv2.imread(str(out / f'{name}.jpg')).shape == (H, W, 3)
        people = _json(out / f'{name}.json')['frames'][0]['people']
        assert len(people) == 1 and people[0]['bbox'] == [0, 0, W, H]
        expected = inference_mesh(model, f'{media["folder"]}/{name}.png')[0].pred_instances
        placed = expected.vertices[0] + expected.camera_translation[0]
        vertices, faces = load_obj(str(out / 'meshes' / f'{name}_person00.obj'))
        # both images' crops share a batch in the demo: float rounding of another batch
        np.testing.assert_allclose(vertices, placed, atol=1e-5)
        np.testing.assert_array_equal(faces, model.head.mesh_sampler.faces(0))
        np.testing.assert_allclose(load_ply(str(out / 'meshes' / f'{name}_person00.ply'))[0],
                                   placed, atol=1e-5)
        np.testing.assert_allclose(people[0]['camera_translation'],
                                   expected.camera_translation[0], atol=1e-4)


def test_video_with_whole_image_boxes_and_a_side_view(demo, model_files, media, tmp_path):
    out = tmp_path / 'out'
    assert demo.main(_args(model_files, '--input', media['video'], '--out-dir', str(out),
                           '--side-view', '--no-json')) == 0
    frames = _video_frames(str(out / 'clip.mp4'))
    assert len(frames) == NUM_VIDEO_FRAMES and frames[0].shape == (H, 2 * W, 3)
    assert not (out / 'clip.json').exists()
    # the left panel is the input frame with a mesh: it differs from the input somewhere
    source = _video_frames(media['video'])[0].astype(int)
    assert np.abs(frames[0][:, :W].astype(int) - source).mean() > 5


def test_user_boxes_and_mesh_opacity(demo, model_files, media, tmp_path):
    out = tmp_path / 'out'
    assert demo.main(_args(model_files, '--input', media['image'], '--out-dir', str(out),
                           '--bboxes', '0', '0', '60', '90', '50', '10', '120', '95',
                           '--alpha', '0')) == 0
    people = _json(out / 'person0.json')['frames'][0]['people']
    assert [p['bbox'] for p in people] == [[0, 0, 60, 90], [50, 10, 120, 95]]
    # fully transparent meshes leave the image as it was
    unchanged = cv2.imdecode(cv2.imencode('.jpg', cv2.imread(media['image']))[1],
                             cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(cv2.imread(str(out / 'person0.jpg')), unchanged)


def test_image_without_a_person(demo, model_files, media, detector_config, tmp_path, capsys):
    out = tmp_path / 'out'
    assert demo.main(_args(model_files, '--input', media['image'], '--out-dir', str(out),
                           '--det-config', detector_config, '--bbox-thr', '0.999')) == 0
    assert 'person0.png: no person found (detector score threshold 0.999)' in \
        capsys.readouterr().out
    unchanged = cv2.imdecode(cv2.imencode('.jpg', cv2.imread(media['image']))[1],
                             cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(cv2.imread(str(out / 'person0.jpg')), unchanged)
    assert _json(out / 'person0.json')['frames'][0]['people'] == []


@pytest.mark.parametrize('case', ['corrupt_image', 'unreadable_video', 'wrong_checkpoint'])
def test_bad_inputs_give_one_clear_message(demo, model_files, tmp_path, capsys, case):
    args = _args(model_files, '--out-dir', str(tmp_path / 'out'))
    if case == 'corrupt_image':
        bad = tmp_path / 'broken.jpg'
        bad.write_bytes(b'\xff\xd8\xff\xe0 truncated')
        expected = 'broken.jpg" cannot be decoded'
    elif case == 'unreadable_video':
        bad = tmp_path / 'broken.mp4'
        bad.write_bytes(b'\x00\x00\x00\x18ftypmp42 not really a video')
        expected = 'broken.mp4" cannot be opened'
    else:
        from mmengine.config import Config
        bad = tmp_path / 'image.png'
        cv2.imwrite(str(bad), np.zeros((H, W, 3), np.uint8))
        cfg = Config.fromfile(model_files['config'])
        cfg.model.head.embed_dims = (48, 16)
        cfg.model.neck.out_channels = 48
        args[0] = str(tmp_path / 'wider.py')
        cfg.dump(args[0])
        expected = 'does not match the model of config'
    code = demo.main(args + ['--input', str(bad)])
    err = capsys.readouterr().err
    assert code == 1
    assert expected in err
    assert any(line.startswith('mesh_demo: error:') for line in err.splitlines())
    assert 'Traceback' not in err


def test_folder_with_a_corrupt_image_goes_on(demo, model_files, media, tmp_path, capsys):
    folder = tmp_path / 'mixed'
    folder.mkdir()
    (folder / 'a_broken.jpg').write_bytes(b'not an image')
    cv2.imwrite(str(folder / 'b_good.png'), cv2.imread(media['image']))
    out = tmp_path / 'out'
    assert demo.main(_args(model_files, '--input', str(folder), '--out-dir', str(out))) == 0
    assert (out / 'b_good.jpg').exists() and not (out / 'a_broken.jpg').exists()
    err = capsys.readouterr().err
    assert 'a_broken.jpg" cannot be decoded' in err and 'skipped 1 unreadable image' in err


def test_argument_errors(demo, model_files, media):
    with pytest.raises(SystemExit):
        demo.parse_args(_args(model_files, '--input', media['image'], '--out-dir', 'x',
                              '--bboxes', '1', '2', '3'))
    with pytest.raises(SystemExit):
        demo.parse_args(_args(model_files, '--input', media['image']))  # no output
    with pytest.raises(SystemExit):
        demo.parse_args(_args(model_files, '--input', media['image'], '--out-dir', 'x',
                              '--threads', '0'))
    with pytest.raises(SystemExit):
        demo.parse_args(_args(model_files, '--input', media['image'], '--out-dir', 'x',
                              '--batch-size', '0'))


def test_onnxruntime_backend_gives_the_pytorch_results(demo, model_files, media, tmp_path):
    from postometro_mm.apis.onnx_export import export_onnx
    from tiny_mesh_model import INPUT_SIZE
    graph = tmp_path / 'tiny.onnx'
    export_onnx(init_model(model_files['config'], model_files['checkpoint'], 'cpu'), str(graph),
                INPUT_SIZE)
    records = {}
    runs = (('pytorch', model_files['checkpoint'], []),  # (torch's threads are process-wide)
            ('onnxruntime', graph, ['--threads', '1']))
    for backend, weights, threads in runs:
        out = tmp_path / backend
        assert demo.main([model_files['config'], str(weights), '--device', 'cpu', '--backend',
                          backend, *threads, '--input', media['folder'], '--out-dir',
                          str(out), '--save-mesh', 'obj', '--draw-pose-2d']) == 0
        records[backend] = [_json(out / f'person{i}.json')['frames'][0]['people'][0]
                            for i in range(2)]
        assert cv2.imread(str(out / 'person0.jpg')).shape == (H, 2 * W, 3)  # + decoded pose
    for ours, ref in zip(records['onnxruntime'], records['pytorch']):
        for key in ('keypoints_3d', 'camera', 'camera_translation'):
            np.testing.assert_allclose(ours[key], ref[key], atol=1e-4, err_msg=key)
        for key in ('keypoints_2d', 'decoded_keypoints'):  # px
            np.testing.assert_allclose(ours[key], ref[key], atol=0.02, err_msg=key)
    ours, ref = (load_obj(str(tmp_path / b / 'meshes' / 'person0_person00.obj'))
                 for b in ('onnxruntime', 'pytorch'))
    np.testing.assert_allclose(ours[0], ref[0], atol=1e-4)
    np.testing.assert_array_equal(ours[1], ref[1])


@pytest.mark.parametrize('given, single_image, expected', [
    ((None, None), False, (1, 4, 1)), ((None, None), True, (4, 1, 1)),
    ((2, None), False, (2, 2, 1)), ((None, 2), False, (2, 2, 1)), ((3, 3), False, (3, 3, 1)),
    ((8, None), False, (8, 1, 1))])
def test_threads_times_workers_fill_the_cores_without_oversubscribing(
        demo, model_files, media, monkeypatch, given, single_image, expected):
    monkeypatch.setattr(demo.os, 'sched_getaffinity', lambda pid: {0, 1, 2, 3}, raising=False)
    threads, workers = given
    args = demo.parse_args(_args(model_files, '--input', media['image' if single_image else
                                                               'video'], '--out-dir', 'x',
                                 '--device', 'cpu',
                                 *(['--threads', str(threads)] if threads else []),
                                 *(['--workers', str(workers)] if workers else [])))
    assert demo.inference_layout(args) == expected
    args.batch_size = 5
    assert demo.inference_layout(args)[2] == 5
