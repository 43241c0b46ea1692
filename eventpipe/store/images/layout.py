"""The on-disk layout of an images store: its tree, names, identity, blocks and chunks.

One store per static dataset, at ``root/<dataset>/images.zarr``::

    images.zarr/                   attrs: eventpipe_store="images", schema_version, dataset, shape
    │                                     [C, H, W], classes, splits, sources, blocks, fingerprint,
    │                                     eventpipe_version; when finished also num_samples, complete
    ├── blocks/<split>/b00000/images  uint8 [n_b, C, H, W], :data:`CHUNK_IMAGES` images per chunk;
    │                                 attrs n, complete (written last, in one metadata write)
    └── <split>/                      written once every block is complete
        ├── labels         int64 [n]
        └── block_samples  int64 [k+1]  first sample of each block

A block is a run of at most :data:`BLOCK_IMAGES` consecutive images written in one go into its own
array with its own completion flag, so a killed run redoes only unfinished blocks. Chunks are Blosc
zstd with bit shuffle, each ending with its CRC-32C (Zarr's ``crc32c`` codec): readers check every
chunk's checksum before decoding it.

The fingerprint (:func:`images_fingerprint`) covers the schema version, the image shape, the classes,
the blocks and the SHA-256 of every raw file read: a store with another fingerprint is never reused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventpipe._version import __version__
from eventpipe.store.markers import KIND_ATTR, fingerprint

KIND = "images"
SCHEMA_VERSION = 1
BLOCKS = "blocks"
BLOCK_IMAGES = 10_000
"""Most images per block: one MNIST test split, a few MB of pixels per write."""
CHUNK_IMAGES = 256
"""Images per chunk: about a batch, so reading one batch decodes few chunks."""
CLEVEL = 5
"""zstd level of the image chunks (written once, read often)."""
IDENTITY = ("schema_version", "shape", "classes", "blocks", "sources")
"""The root attributes the fingerprint covers."""


def images_fingerprint(attrs: Mapping[str, Any]) -> str:
    """Fingerprint of an images store from its identity attributes (:data:`IDENTITY`)."""
    return fingerprint({k: attrs.get(k) for k in IDENTITY})


def plan_blocks(n: int, per_block: int = BLOCK_IMAGES) -> list[int]:
    """Sample boundaries ``[0, ..., n]`` of blocks of at most ``per_block`` images.

    >>> plan_blocks(25, per_block=10)
    [0, 10, 20, 25]
    >>> plan_blocks(0)
    [0]
    """
    return [*range(0, n, per_block), n] if n else [0]


def block_path(split: str, block: int) -> str:
    """Path of a block's group inside the store: ``blocks/<split>/b00000``."""
    return f"{BLOCKS}/{split}/b{block:05d}"


@dataclass(frozen=True)
class ImagesHeader:
    """What an images store holds, known before any image is written.

    ``shape`` is ``(C, H, W)``; ``blocks`` the boundaries of each split's blocks (:func:`plan_blocks`);
    ``sources`` the ``{"path", "size", "checksum"}`` records of the raw files read.
    """

    dataset: str
    shape: tuple[int, int, int]
    classes: tuple[str, ...]
    splits: tuple[str, ...]
    blocks: Mapping[str, Sequence[int]]
    sources: Sequence[Mapping[str, Any]]

    def identity(self) -> dict[str, Any]:
        """The attributes the fingerprint covers."""
        return {
            "schema_version": SCHEMA_VERSION,
            "shape": [int(v) for v in self.shape],
            "classes": list(self.classes),
            "blocks": {s: [int(v) for v in self.blocks[s]] for s in self.splits},
            "sources": [dict(s) for s in self.sources],
        }

    @property
    def fingerprint(self) -> str:
        return images_fingerprint(self.identity())

    def to_attrs(self) -> dict[str, Any]:
        """Root attributes of a new store."""
        return {
            KIND_ATTR: KIND,
            **self.identity(),
            "dataset": self.dataset,
            "splits": list(self.splits),
            "fingerprint": self.fingerprint,
            "eventpipe_version": __version__,
        }
