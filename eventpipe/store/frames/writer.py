"""Writing a frames store: start, resume or refuse, write one block per task, then index the splits.

The order of operations is what makes a killed run safe to resume:

1. :func:`begin` (driver, under the store lock) writes the root attributes, with the fingerprint of
   what the store will hold (:mod:`eventpipe.store.frames.layout`). A store with another fingerprint
   is never reused: :func:`begin` refuses it with :class:`~eventpipe.errors.StoreSchemaError`
   unless told to overwrite it.
2. :func:`write_block` (any worker) erases whatever an interrupted attempt left of its block, writes
   the block's frames, and only then its summary with the completion flag, in one write.
3. :func:`finalize` (driver) builds each split's index from the block summaries and marks the root
   complete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from eventpipe.errors import StoreSchemaError
from eventpipe.events import SensorSize
from eventpipe.store._zarr import counts_array, create_store, floats_array, write_nodes
from eventpipe.store.frames.layout import (
    BLOCKS,
    IDENTITY,
    KIND,
    FramesHeader,
    block_chunks,
    block_dtype,
    block_path,
    store_dtype,
)
from eventpipe.store.index import write_split_index
from eventpipe.store.location import (
    StoreLike,
    exists,
    filesystem,
    is_local,
    join,
    normalize,
    remove,
    remove_partial_writes,
)
from eventpipe.store.markers import COMPLETE, KIND_ATTR, mark_complete, read_attrs

Status = Literal["new", "resume", "complete"]


def _differences(attrs: Mapping[str, Any], header: FramesHeader) -> str:
    want = header.identity()
    reasons = {
        "schema_version": "it was written by another schema version",
        "sensor": "its sensor size differs",
        "spec": "its integration spec differs",
        "plugin": "the integration plugin's source changed",
        "source_fingerprint": "the events store was converted again since",
    }
    found = [reasons[k] for k in IDENTITY if attrs.get(k) != want[k]]
    return "; ".join(found) or "its fingerprint differs"


def _is_empty_folder(location: str) -> bool:
    if is_local(location):
        folder = Path(location)
        return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))
    fs, path = filesystem(location)
    return not fs.exists(path) or not fs.ls(path)


def begin(location: StoreLike, header: FramesHeader, overwrite: bool = False) -> Status:
    """Create the store, or find it resumable or complete. Call under the store lock.

    A store left unreadable by a run killed while creating it is recreated.

    Raises
    ------
    StoreSchemaError
        Something else is at ``location``: a frames store with another fingerprint (the message says
        why and what to do) or a folder that is not a frames store. ``overwrite=True`` replaces it.
    """
    loc = normalize(location)
    if exists(loc):
        attrs = read_attrs(loc)
        created = attrs is not None and attrs.get(KIND_ATTR) == KIND and "fingerprint" in attrs
        if created and attrs["fingerprint"] == header.fingerprint:  # type: ignore[index]
            if attrs.get(COMPLETE):  # type: ignore[union-attr]
                return "complete"
            remove_partial_writes(loc)  # what the interrupted run was writing when it was killed
            return "resume"
        if created and not overwrite:
            raise StoreSchemaError(
                f"{loc} holds frames that this run would not write ({_differences(attrs, header)}); "  # type: ignore[arg-type]
                f"frames stores are never reused across fingerprints. Delete it (rm -r {loc}) or run "
                "again with --overwrite (prepare(..., overwrite=True))."
            )
        if attrs is not None and attrs.get(KIND_ATTR) not in (KIND, None) and not overwrite:
            raise StoreSchemaError(
                f"{loc} is a {attrs.get(KIND_ATTR)!r} store, not a frames store; move it away or use --overwrite."
            )
    elif not _is_empty_folder(loc) and not overwrite:
        raise StoreSchemaError(f"{loc} exists and is not a Zarr store; move it away or use --overwrite.")
    remove(loc)
    create_store(loc, header.to_attrs(loc), [BLOCKS, *(f"{BLOCKS}/{split}" for split in header.splits)])
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


def write_block(
    location: StoreLike, split: str, block: int, frames: Sequence[np.ndarray], sensor: SensorSize, fixed_t: int | None
) -> None:
    """Write the frames of one block (one ``[T, P, H, W]`` array per sample: counts or floats) and
    mark it complete, with its summary (frames per sample, dtype, largest value, bytes before
    compression) in the block's attributes, where :func:`finalize` reads it."""
    shape = sensor.frame_shape(0)[1:]
    n_frames = [int(len(f)) for f in frames]
    dtype = block_dtype(frames)
    if fixed_t is not None:
        data = np.stack(frames).astype(dtype, copy=False) if frames else np.zeros((0, fixed_t, *shape), dtype)
    else:
        data = np.concatenate([f.astype(dtype, copy=False) for f in frames]) if sum(n_frames) else np.zeros((0, *shape), dtype)
    path = block_path(split, block)
    remove(join(location, path))  # what an interrupted attempt left, if anything
    encode = floats_array if dtype.kind == "f" else counts_array
    metadata, chunks = encode(f"{path}/frames", data, block_chunks(data.shape, dtype, fixed_t))
    write_nodes(location, [(f"{path}/frames", metadata)], chunks)
    summary = {
        "n_frames": n_frames,
        "dtype": dtype.name,
        "max_count": (float(data.max()) if dtype.kind == "f" else int(data.max())) if data.size else 0,
        "nbytes": int(data.nbytes),
    }
    mark_complete(normalize(location), path, summary)


def finalize(
    location: StoreLike,
    header: FramesHeader,
    labels: Mapping[str, np.ndarray],
    meta: Mapping[str, Mapping[str, np.ndarray]],
) -> dict[str, Any]:
    """Index every split from its blocks and mark the store complete; return the root attributes.

    ``labels`` and ``meta`` (per split) are copied from the events store. Raises
    :class:`StoreSchemaError` if a block is not complete.
    """
    loc = normalize(location)
    root_attrs = read_attrs(loc)
    if root_attrs is None:
        raise StoreSchemaError(f"{loc}: the frames store's root metadata is missing or unreadable; run prepare again.")
    num_samples: dict[str, int] = {}
    num_frames: dict[str, int] = {}
    dtypes: list[str] = []
    max_count: float = 0
    for split in header.splits:
        bounds = list(header.blocks[split])
        counts: list[int] = []
        block_frames = [0]
        for j in range(len(bounds) - 1):
            attrs = read_attrs(loc, block_path(split, j))
            if attrs is None or not attrs.get(COMPLETE):
                raise StoreSchemaError(f"{loc}: block {split}/{j} is not complete; run prepare again.")
            counts += attrs["n_frames"]
            block_frames.append(block_frames[-1] + sum(attrs["n_frames"]))
            dtypes.append(attrs["dtype"])
            max_count = max(max_count, attrs["max_count"])
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        index = {
            "offsets": offsets,
            "labels": np.asarray(labels[split], dtype=np.int64),
            "block_samples": np.asarray(bounds, dtype=np.int64),
            "block_frames": np.asarray(block_frames, dtype=np.int64),
        }
        for name, values in sorted(meta.get(split, {}).items()):
            column = np.asarray(values)
            if column.dtype.kind in "UTO":  # variable-length strings: Zarr v3's "string" data type
                column = column.astype(np.dtypes.StringDType())
            index[f"meta/{name}"] = column
        write_split_index(loc, split, index)
        num_samples[split] = len(counts)
        num_frames[split] = int(offsets[-1])
    return mark_complete(loc, "", {**root_attrs, "num_samples": num_samples, "num_frames": num_frames,
                                   "dtype": store_dtype(dtypes).name, "max_count": max_count})
