"""Throughput (samples/s) of a mesh dataset + pipeline, on a synthetic SPIN-style npz set.

Writes ``--num-images`` random JPEGs (``--image-size``, default 1280x720) and a SPIN-layout
annotation npz into a temporary folder (or ``--work-dir``), then times a DataLoader over
``SPINNpzDataset`` with the training pipeline of
``configs/_base_/datasets/mesh_train_defaults.py`` (FastMETRO's augmentation) or the test
pipeline of ``mesh_eval_defaults.py``, cropping to 256x256, for each ``--workers`` count.
Example::

    python tools/analysis/benchmark_data.py --workers 0 2 --num-samples 256
"""
import argparse
import os
import os.path as osp
import tempfile
import time
from typing import List

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

import postometro_mm  # noqa: F401  (registers the datasets and transforms)
from postometro_mm.datasets import SPINNpzDataset

#: the training / evaluation pipelines of the dataset base configs
CONFIG_DIR = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', 'configs', '_base_',
                      'datasets')
PIPELINE_SOURCES = dict(train=('mesh_train_defaults.py', 'train_pipeline'),
                        test=('mesh_eval_defaults.py', 'test_pipeline'))


def load_pipeline(name: str) -> List[dict]:
    """The ``train`` or ``test`` pipeline of the dataset base configs."""
    filename, key = PIPELINE_SOURCES[name]
    return Config.fromfile(osp.join(CONFIG_DIR, filename))[key]


def write_synthetic_spin_set(folder: str, num_images: int, width: int, height: int,
                             seed: int = 0) -> str:
    """Random JPEGs and a SPIN-layout npz describing one person box per image."""
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(folder, 'images'), exist_ok=True)
    names = []
    for i in range(num_images):
        names.append(f'images/seq_00/image_{i:05d}.jpg')
        os.makedirs(osp.dirname(osp.join(folder, names[-1])), exist_ok=True)
        img = cv2.GaussianBlur(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), (5, 5), 0)
        cv2.imwrite(osp.join(folder, names[-1]), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    side = rng.uniform(0.4, 0.9, num_images) * min(width, height)
    center = np.stack([rng.uniform(side / 2, width - side / 2),
                       rng.uniform(side / 2, height - side / 2)], axis=1)
    part = np.concatenate([center[:, None] + rng.uniform(-0.4, 0.4, (num_images, 24, 2)) *
                           side[:, None, None], np.ones((num_images, 24, 1))], axis=2)
    S = np.concatenate([rng.normal(0, 0.3, (num_images, 24, 3)) + [0, 0, 5],
                        np.ones((num_images, 24, 1))], axis=2)
    path = osp.join(folder, 'synthetic_spin.npz')
    np.savez(path, imgname=np.array(names), center=center, scale=side / 200, part=part, S=S,
             pose=rng.normal(0, 0.2, (num_images, 72)), shape=rng.normal(0, 1, (num_images, 10)),
             gender=np.array(['m', 'f'])[np.arange(num_images) % 2])
    return path


def measure(dataset: SPINNpzDataset, workers: int, num_samples: int, batch_size: int,
            warmup_batches: int = 2) -> float:
    """Samples per second over ``num_samples`` samples after ``warmup_batches`` batches."""
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, shuffle=True,
                        collate_fn=pseudo_collate, persistent_workers=workers > 0,
                        drop_last=True)
    done, start = 0, None
    while True:
        for batch_index, batch in enumerate(loader):
            if start is None and batch_index + 1 >= warmup_batches:
                start = time.perf_counter()
                continue
            if start is not None:
                done += len(batch['inputs'])
                if done >= num_samples:
                    return done / (time.perf_counter() - start)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Mesh data pipeline throughput')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 2])
    parser.add_argument('--pipeline', choices=sorted(PIPELINE_SOURCES), nargs='+',
                        default=['train', 'test'])
    parser.add_argument('--num-images', type=int, default=64)
    parser.add_argument('--num-samples', type=int, default=256,
                        help='timed samples per measurement (after warm-up)')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--image-size', default='1280x720', help='WxH of the source images')
    parser.add_argument('--work-dir', default=None, help='keep the synthetic set here')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cv2.setNumThreads(1)
    init_default_scope('mmpose')
    width, height = (int(v) for v in args.image_size.lower().split('x'))
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.work_dir or tmp
        ann_file = write_synthetic_spin_set(folder, args.num_images, width, height)
        print(f'synthetic SPIN npz set: {args.num_images} images {width}x{height} in {folder}; '
              f'crop 256x256; batch {args.batch_size}; {os.cpu_count()} CPUs')
        print(f'{"pipeline":<10}{"workers":>8}{"samples/s":>12}')
        for name in args.pipeline:
            dataset = SPINNpzDataset(ann_file=ann_file, data_prefix=dict(img=folder),
                                     pipeline=load_pipeline(name), test_mode=name == 'test')
            for workers in args.workers:
                rate = measure(dataset, workers, args.num_samples, args.batch_size)
                print(f'{name:<10}{workers:>8}{rate:>12.1f}')


if __name__ == '__main__':
    main()
