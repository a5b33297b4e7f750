"""Image loading for mesh samples: image files and encoded image bytes (METRO TSV)."""
from typing import Optional

import mmcv
import numpy as np
from mmpose.datasets.transforms import LoadImage
from mmpose.registry import TRANSFORMS


def describe_sample(results: dict) -> str:
    """Short description of a sample for error messages: dataset, record id and image."""
    where = results.get('img_source') or results.get('img_path')
    return (f'{results.get("dataset_name", "dataset")} record {results.get("id", "?")} '
            f'(image "{where}")')


@TRANSFORMS.register_module()
class LoadMeshImage(LoadImage):
    """mmpose's :class:`LoadImage` that also decodes ``img_bytes`` (METRO TSV samples).

    Images are BGR uint8 (``to_float32`` as in mmpose). Sets ``img``, ``img_shape`` and
    ``ori_shape``; drops ``img_bytes`` once decoded. A missing, unreadable or undecodable image
    raises an error naming the dataset, record id and image (file, or TSV file and row).

    Args:
        **kwargs: see :class:`mmpose.datasets.transforms.LoadImage`.
    """

    def transform(self, results: dict) -> Optional[dict]:
        if 'img' not in results and results.get('img_bytes') is not None:
            img = mmcv.imfrombytes(results.pop('img_bytes'), flag=self.color_type,
                                   backend=self.imdecode_backend)
            if img is None or img.size == 0:
                raise ValueError(f'{describe_sample(results)}: the image bytes cannot be '
                                 'decoded (corrupted or not an image)')
            if self.to_float32:
                img = img.astype(np.float32)
            results['img'] = img
            results['img_shape'] = img.shape[:2]
            results['ori_shape'] = img.shape[:2]
            return results
        try:
            loaded = super().transform(results)
        except Exception as err:  # mmcv raises several types; keep the type, name the record
            raise type(err)(f'{describe_sample(results)}: {err}') from err
        if loaded is not None and loaded.get('img') is None:
            raise ValueError(f'{describe_sample(results)}: the image file cannot be decoded')
        return loaded
