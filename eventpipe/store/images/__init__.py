"""The images store: the uint8 images ``[N, C, H, W]`` and labels of each split of a static dataset.

- :mod:`.layout`: the tree, names, identity (:class:`ImagesHeader`), block plan and chunks;
- :mod:`.writer`: :func:`begin`, :func:`write_block`, :func:`finalize`, resuming a killed run;
- :mod:`.reader`: :class:`ImagesStore`, :class:`ImagesSplit`;
- :mod:`.integrity`: :func:`~.integrity.check_images_store`.
"""

from eventpipe.store.images.layout import BLOCK_IMAGES, ImagesHeader, plan_blocks
from eventpipe.store.images.reader import ImagesSplit, ImagesStore
from eventpipe.store.images.writer import begin, completed_blocks, finalize, write_block

__all__ = [
    "BLOCK_IMAGES",
    "ImagesHeader",
    "ImagesSplit",
    "ImagesStore",
    "begin",
    "completed_blocks",
    "finalize",
    "plan_blocks",
    "write_block",
]
