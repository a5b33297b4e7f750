"""Generate the quickstart's synthetic world (train, test, test_occluded).

Example::

    python tools/quickstart_world.py work_dirs/quickstart/world --num-train 2000 \
        --num-test 200 --num-test-occluded 200

writes SPIN-style annotations + images per split, the test split also as 3DPW sequence files
converted by the real 3DPW converter, and ``manifest.json``; prints a summary. A rerun with
the same arguments returns at once (see :func:`postometro_mm.quickstart.generate_world`).
"""
import argparse
import json
import sys
from typing import List, Optional

from postometro_mm.quickstart import generate_world
from postometro_mm.utils.cli import run_cli


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--num-train', type=int, default=2000, help='training images')
    parser.add_argument('--num-test', type=int, default=200, help='test images')
    parser.add_argument('--num-test-occluded', type=int, default=200,
                        help='heavily occluded test images')
    parser.add_argument('--image-size', type=int, default=256, help='image side in px')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--pose-spread', type=float, default=0.7,
                        help='joint-angle spread (1: full joint ranges, 0.7: everyday poses)')
    parser.add_argument('--yaw-std', type=float, default=None,
                        help='std in degrees of the turn away from the camera (default: '
                        'every direction equally)')
    parser.add_argument('--body-model', default=None,
                        help='folder with SMPL_{MALE,FEMALE}.{npz,pkl} and '
                        'J_regressor_extra.npy (default: a small synthetic body model written '
                        'to OUT_DIR/body_model)')
    parser.add_argument('--force', action='store_true',
                        help='replace splits generated with other arguments')
    parser.add_argument('--quiet', action='store_true', help='no progress bars')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    try:
        result = generate_world(
            args.out_dir, args.num_train, args.num_test, args.num_test_occluded,
            image_size=args.image_size, seed=args.seed, body_model=args.body_model,
            pose_spread=args.pose_spread, yaw_std_deg=args.yaw_std,
            force=args.force, progress=not args.quiet)
    except (FileExistsError, FileNotFoundError, ValueError) as err:
        raise SystemExit(f'error: {err}') from None
    generated = ', '.join(result['generated']) or 'nothing (all splits up to date)'
    print(f'world in {result["out_dir"]}: generated {generated} in {result["seconds"]:.1f} s')
    print(json.dumps({name: dict(images=split['num_images'], ann_file=split['ann_file'],
                                 visible_keypoints=split['visibility']['coco17_visible'])
                      for name, split in result['splits'].items()}, indent=2))
    return result


if __name__ == '__main__':
    sys.exit(run_cli(main, 'quickstart_world'))
