"""Reading prepared stores into PyTorch: the dataset over a store split.

The loading side (this package, :mod:`eventpipe.collate` and :mod:`eventpipe.transforms`) never
imports the pipeline, the downloader or Dask, so a training process that only reads stores stays
light; :mod:`eventpipe.datasets` adds building missing stores on top. Events packed per batch
(:func:`pack_events_collate`) become frames where the model is (:class:`TorchFrames`), with no frames
store at all.
"""

from __future__ import annotations

from eventpipe.loading.dataset import StoreDataset, prepare_command
from eventpipe.loading.event_batches import EventBatch, pack_events_collate
from eventpipe.loading.torch_frames import TorchFrames

__all__ = ["EventBatch", "StoreDataset", "TorchFrames", "pack_events_collate", "prepare_command"]
