"""The on-disk layout of a frames store: its tree, names, identity, blocks, dtypes and chunks.

One store per :class:`~eventpipe.frames.IntegrationSpec`, at ``root/<dataset>/frames/<spec.name>.zarr``
(``frames_number_20_split_by_number.zarr``, ``duration_10000us.zarr``, ``plugin_<name>_<hash>.zarr``)::

    <spec.name>.zarr/              attrs: eventpipe_store="frames", schema_version, dataset, sensor,
    │                                     classes, splits, spec, plugin, source_fingerprint,
    │                                     source_location (relative to the store), fixed_t,
    │                                     blocks, fingerprint,
    │                                     eventpipe_version; when finished also num_samples,
    │                                     num_frames, dtype, max_count, complete
    ├── blocks/<split>/b00000/frames  fixed T: [n_b, T, P, H, W], one chunk per sample;
    │                                 variable T: [F_b, P, H, W], the block's samples' frames
    │                                 one after the other; attrs n_frames, dtype, max_count,
    │                                 complete (written last, in one metadata write)
    └── <split>/                      written once every block is complete
        ├── offsets  int64 [n+1]      sample i is frames [offsets[i], offsets[i+1]) of the split
        ├── labels   int64 [n]
        ├── block_samples, block_frames  int64 [k+1]  first sample / frame of each block
        └── meta/<column>             per-sample metadata copied from the events store

A block is a run of consecutive samples written by one task into its own array, so parallel tasks
never touch the same chunk, and each block carries its own completion flag: a killed run redoes
only unfinished blocks. Blocks are planned from the events store's offsets alone (about
:data:`BLOCK_EVENTS` events each, :func:`plan_blocks`), so the store is the same for any number of
workers.

Frames are counts (unsigned integers) or floats (float16 or float32: a float representation or a
plugin's fractional frames, see :func:`eventpipe.frames.accumulate.float_frames`). Each block is
stored in the smallest dtype that holds its frames (:func:`block_dtype`); readers convert every
sample to the store's ``dtype`` (:func:`store_dtype`, all blocks' dtypes promoted together), so all
samples of a store share one dtype. Count chunks are encoded by the sparse counts codec
(:mod:`eventpipe.store._zarr.sparse_counts`), registered with Zarr under the name
``eventpipe.sparse_counts``: any Zarr reader with eventpipe installed opens the arrays. Float
chunks go through Zarr's standard ``bytes`` + ``zstd``. Both end with a CRC-32C.

The fingerprint (:func:`frames_fingerprint`) covers the spec (``frames_dtype`` included), the plugin's identity, the events
store's fingerprint, the sensor and the schema version. A store whose fingerprint differs from the
one a run would write is never reused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from eventpipe._version import __version__
from eventpipe.events import SensorSize
from eventpipe.store.location import relative_to
from eventpipe.store.markers import KIND_ATTR, fingerprint

if TYPE_CHECKING:
    from eventpipe.frames import IntegrationSpec

KIND = "frames"
SCHEMA_VERSION = 3
"""Version 3: every chunk ends with its CRC-32C (Zarr's ``crc32c`` codec) and every chunk is stored,
zeros too; ``source_location`` is relative to the store. Older stores are refused with the command
that rebuilds them."""
BLOCKS = "blocks"
BLOCK_EVENTS = 4_000_000
"""Target events per block: a few large samples, enough to hide a block's fixed cost (its Zarr
metadata round trips) and few enough to balance a dataset's blocks over the workers."""
BLOCK_MAX_SAMPLES = 256
"""Most samples per block (tiny samples such as N-MNIST digits)."""
CHUNK_BYTES = 1 << 20
"""Uncompressed bytes per chunk of a variable-T block (whole frames)."""
IDENTITY = ("schema_version", "sensor", "spec", "plugin", "source_fingerprint")
"""The root attributes the fingerprint covers."""


def frames_fingerprint(attrs: Mapping[str, Any]) -> str:
    """Fingerprint of a frames store from its identity attributes (:data:`IDENTITY`)."""
    return fingerprint({k: attrs.get(k) for k in IDENTITY})


def plan_blocks(offsets: np.ndarray, target_events: int = BLOCK_EVENTS, max_samples: int = BLOCK_MAX_SAMPLES) -> list[int]:
    """Sample boundaries ``[0, ..., n]`` of blocks (at least one sample each): about ``target_events``
    events each, then smaller towards the end, each a third of the events left but at least a
    quarter of ``target_events``.

    Blocks run largest first (:func:`eventpipe.pipeline.dask.run_tasks` with a cost), so the short
    blocks come last and fill in whichever worker is free: the workers finish within a short block of
    each other for any number of workers, where equal blocks leave one worker a whole block behind
    when their count is not a multiple of the workers'.

    >>> plan_blocks(np.array([0, 5, 10, 30, 31, 32]), target_events=10)
    [0, 2, 3, 5]
    >>> plan_blocks(np.arange(0, 13, 1), target_events=4)
    [0, 4, 6, 8, 9, 10, 11, 12]
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    bounds = [0]
    while bounds[-1] < n:
        start = bounds[-1]
        size = min(target_events, max(int(offsets[n] - offsets[start]) // 3, target_events // 4))
        stop = int(np.searchsorted(offsets, offsets[start] + size, side="right")) - 1
        bounds.append(min(max(stop, start + 1), start + max_samples, n))
    return bounds


def block_path(split: str, block: int) -> str:
    """Path of a block's group inside the store: ``blocks/<split>/b00000``."""
    return f"{BLOCKS}/{split}/b{block:05d}"


def block_dtype(frames: Iterable[np.ndarray]) -> np.dtype[Any]:
    """The dtype a block of samples' ``frames`` is stored in: their dtypes promoted together, uint8 at
    least (counts and floats together give a float wide enough for both)."""
    return np.result_type(np.uint8, *(f.dtype for f in frames))


def store_dtype(dtypes: Iterable[str]) -> np.dtype[Any]:
    """The dtype every sample of a store is read in: its blocks' ``dtypes`` promoted together."""
    return np.result_type(np.uint8, *(np.dtype(d) for d in dtypes))


def block_chunks(shape: Sequence[int], dtype: np.dtype[Any], fixed_t: int | None) -> tuple[int, ...]:
    """Chunk shape of a block's ``frames`` array of ``shape``: one sample per chunk for fixed T, else
    whole frames of about :data:`CHUNK_BYTES` (at most the block's frames, at least one)."""
    frame = tuple(shape[-3:])
    if fixed_t is not None:
        return (1, fixed_t, *frame)
    per_chunk = max(1, CHUNK_BYTES // max(1, int(np.prod(frame)) * dtype.itemsize))
    return (max(1, min(per_chunk, shape[0])), *frame)


@dataclass(frozen=True)
class FramesHeader:
    """What a frames store holds, known before any sample is integrated."""

    dataset: str
    sensor: SensorSize
    classes: tuple[str, ...]
    splits: tuple[str, ...]
    spec: IntegrationSpec
    source_fingerprint: str
    source_location: str
    blocks: Mapping[str, Sequence[int]]

    def identity(self) -> dict[str, Any]:
        """The attributes the fingerprint covers."""
        parts = self.spec.fingerprint_parts()
        return {
            "schema_version": SCHEMA_VERSION,
            "sensor": list(self.sensor),
            "spec": parts["spec"],
            "plugin": parts["plugin"],
            "source_fingerprint": self.source_fingerprint,
        }

    @property
    def fingerprint(self) -> str:
        return frames_fingerprint(self.identity())

    def to_attrs(self, location: str) -> dict[str, Any]:
        """Root attributes of a new store at ``location``: nothing in them names the machine's folders,
        so a copied store reads the same (the events store is recorded relative to it)."""
        return {
            KIND_ATTR: KIND,
            **self.identity(),
            "dataset": self.dataset,
            "classes": list(self.classes),
            "splits": list(self.splits),
            "source_location": relative_to(self.source_location, location),
            "fixed_t": self.spec.fixed_frames,
            "blocks": {s: list(map(int, b)) for s, b in self.blocks.items()},
            "fingerprint": self.fingerprint,
            "eventpipe_version": __version__,
        }
