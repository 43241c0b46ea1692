"""Writing an images store: start, resume or refuse, write one block at a time, then index the splits.

As for the frames store (:mod:`eventpipe.store.frames.writer`), the order of operations makes a
killed run safe to resume: :func:`begin` writes the root attributes with the fingerprint;
:func:`write_block` erases what an interrupted attempt left of its block, writes its images, then
its completion flag in one write; :func:`finalize` indexes every split and marks the root complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from eventpipe.errors import StoreSchemaError
from eventpipe.store._zarr import create_store, store_of
from eventpipe.store.images.layout import BLOCKS, CHUNK_IMAGES, CLEVEL, KIND, ImagesHeader, block_path
from eventpipe.store.index import write_split_index
from eventpipe.store.location import StoreLike, exists, join, normalize, remove, remove_partial_writes
from eventpipe.store.markers import COMPLETE, KIND_ATTR, mark_complete, read_attrs

Status = Literal["new", "resume", "complete"]


def begin(location: StoreLike, header: ImagesHeader, overwrite: bool = False) -> Status:
    """Create the store, or find it resumable or complete. Call under the store lock.

    Raises
    ------
    StoreSchemaError
        Something else is at ``location``: an images store with another fingerprint (other raw files,
        another schema version) or something that is not an images store. ``overwrite=True`` replaces it.
    """
    loc = normalize(location)
    if exists(loc):
        attrs = read_attrs(loc)
        created = attrs is not None and attrs.get(KIND_ATTR) == KIND and "fingerprint" in attrs
        if created and attrs["fingerprint"] == header.fingerprint:  # type: ignore[index]
            if attrs.get(COMPLETE):  # type: ignore[union-attr]
                return "complete"
            remove_partial_writes(loc)
            return "resume"
        if not overwrite:
            what = ("holds images that this run would not write (other raw files or another schema version)"
                    if created else "is not an images store")
            raise StoreSchemaError(f"{loc} {what}; delete it (rm -r {loc}) or run again with --overwrite.")
    elif Path(loc).is_dir() and any(Path(loc).iterdir()) and not overwrite:
        raise StoreSchemaError(f"{loc} exists and is not a Zarr store; move it away or use --overwrite.")
    remove(loc)
    create_store(loc, header.to_attrs(), [BLOCKS, *(f"{BLOCKS}/{split}" for split in header.splits)])
    return "new"


def completed_blocks(location: StoreLike, split: str, n_blocks: int) -> set[int]:
    """Indices of the blocks of ``split`` that carry their completion flag."""
    loc = normalize(location)
    done = set()
    for j in range(n_blocks):
        attrs = read_attrs(loc, block_path(split, j))
        if attrs is not None and attrs.get(COMPLETE):
            done.add(j)
    return done


def write_block(location: StoreLike, split: str, block: int, images: np.ndarray) -> None:
    """Write the uint8 ``images`` ``[n, C, H, W]`` of one block and mark it complete."""
    if images.dtype != np.uint8 or images.ndim != 4:
        raise StoreSchemaError(f"images of block {split}/{block}: expected uint8 [n, C, H, W], "
                               f"got {images.dtype} {tuple(images.shape)}")
    path = block_path(split, block)
    loc = normalize(location)
    remove(join(loc, path))  # what an interrupted attempt left, if anything
    _write_array(loc, f"{path}/images", images)
    mark_complete(loc, path, {"n": len(images)})


def _write_array(location: str, path: str, images: np.ndarray) -> None:
    """The array at ``path``: ``images`` in chunks of :data:`CHUNK_IMAGES`, Blosc zstd with bit shuffle
    and CRC-32C, every chunk stored."""
    import zarr
    from zarr.codecs import BloscCodec, Crc32cCodec

    chunk = (max(1, min(CHUNK_IMAGES, len(images))), *images.shape[1:])
    arr = zarr.create_array(store_of(location), name=path, shape=images.shape, dtype=np.uint8, chunks=chunk,
                            compressors=[BloscCodec(cname="zstd", clevel=CLEVEL, shuffle="bitshuffle"),
                                         Crc32cCodec()],
                            zarr_format=3, config={"write_empty_chunks": True})  # type: ignore[arg-type]
    if len(images):
        arr[:] = images


def finalize(location: StoreLike, header: ImagesHeader, labels: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Index every split (its labels and block boundaries) and mark the store complete; return the root attributes.

    Raises :class:`StoreSchemaError` if a block is not complete or holds another number of images.
    """
    loc = normalize(location)
    root_attrs = read_attrs(loc)
    if root_attrs is None:
        raise StoreSchemaError(f"{loc}: the images store's root metadata is missing or unreadable; build it again.")
    num_samples: dict[str, int] = {}
    for split in header.splits:
        bounds = [int(b) for b in header.blocks[split]]
        for j in range(len(bounds) - 1):
            attrs = read_attrs(loc, block_path(split, j))
            if attrs is None or not attrs.get(COMPLETE) or attrs.get("n") != bounds[j + 1] - bounds[j]:
                raise StoreSchemaError(f"{loc}: block {split}/{j} is not complete; build the store again.")
        split_labels = np.asarray(labels[split], dtype=np.int64)
        if len(split_labels) != bounds[-1]:
            raise StoreSchemaError(f"{loc}: {len(split_labels)} labels for the {bounds[-1]} images of split {split!r}")
        write_split_index(loc, split, {"labels": split_labels, "block_samples": np.asarray(bounds, dtype=np.int64)})
        num_samples[split] = bounds[-1]
    return mark_complete(loc, "", {**root_attrs, "num_samples": num_samples})
