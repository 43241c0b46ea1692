"""Reading prepared stores into PyTorch: the dataset over a store split.

The loading side (this package, :mod:`eventpipe.collate` and :mod:`eventpipe.transforms`) never
imports the pipeline, the downloader or Dask, so a training process that only reads stores stays
light; :mod:`eventpipe.datasets` adds building missing stores on top.
"""

from __future__ import annotations

from eventpipe.loading.dataset import StoreDataset, prepare_command

__all__ = ["StoreDataset", "prepare_command"]
