"""Packaging for postometro_mm, an MMPose 1.x plugin for 3D human mesh recovery.

Like mmpose, the wheel carries ``configs/``, ``tools/`` and ``demo/`` inside the package's
``.mim`` folder so that ``mim train postometro_mm <config>`` and ``mim test`` find them after a
plain (non-editable) ``pip install .``.
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
MIM_FOLDERS = ('configs', 'tools', 'demo')


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join(HERE, 'postometro_mm', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


class BuildWithMim(build_py):
    """Copy configs/tools/demo into ``postometro_mm/.mim`` of the build tree."""

    def run(self) -> None:
        super().run()
        mim_root = osp.join(self.build_lib, 'postometro_mm', '.mim')
        for folder in MIM_FOLDERS:
            if not osp.isdir(osp.join(HERE, folder)):
                continue
            target = osp.join(mim_root, folder)
            if osp.exists(target):
                shutil.rmtree(target)
            shutil.copytree(
                osp.join(HERE, folder), target,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


def read_requirements(name: str) -> list:
    reqs = []
    with open(osp.join(HERE, 'requirements', name), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                reqs.append(line)
    return reqs


setup(
    name='postometro_mm',
    version=read_version(),
    description='3D human mesh recovery (PostoMETRO, PCT, VQ-HPS) for OpenMMLab 2.0 / MMPose 1.x',
    long_description=open(osp.join(HERE, 'README.md'), encoding='utf-8').read()
    if osp.exists(osp.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=('postometro_mm', 'postometro_mm.*')),
    include_package_data=True,
    python_requires='>=3.8',
    # mmcv/mmpose/mmdet are installed by tools/env/build_env.sh (mmcv needs a patched source
    # build, mmpose must come without chumpy), so they are not install_requires here.
    install_requires=[r for r in read_requirements('runtime.txt')
                      if not r.startswith(('setuptools', 'openmim'))],
    cmdclass={'build_py': BuildWithMim},
    zip_safe=False,
)
