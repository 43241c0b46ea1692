"""Writing an events store: start or resume, write one part per task, then index the splits.

The order of operations is what makes a killed run safe to resume:

1. :func:`begin` (driver, under the store lock) writes the root attributes that identify the store's
   contents (dataset, options, the plan of parts). A store whose identity differs is erased first;
   one whose identity matches is resumed.
2. :func:`write_part` (any worker) erases whatever an interrupted attempt left of its part, writes
   the part's arrays, and only then its attributes with the completion flag, in one write.
3. :func:`finalize` (driver) builds each split's index from the part attributes and finally marks
   the root complete, with the fingerprint. A finished store is never rewritten by a rerun.

The layout is described in :mod:`eventpipe.store.events.layout`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from eventpipe.errors import StoreSchemaError
from eventpipe.store import codecs
from eventpipe.store._zarr import blosc_array, create_store, group_metadata, write_nodes
from eventpipe.store.events.encoding import EncodedBatch
from eventpipe.store.events.layout import (
    COLUMNS,
    KIND,
    PARTS,
    SOURCES,
    StoreHeader,
    part_path,
    store_fingerprint,
)
from eventpipe.store.index import write_index, write_split_index
from eventpipe.store.location import (
    StoreLike,
    exists,
    is_local,
    join,
    normalize,
    remove,
    remove_partial_writes,
)
from eventpipe.store.markers import COMPLETE, KIND_ATTR, fingerprint, is_complete, mark_complete, read_attrs

Status = Literal["new", "resume", "complete"]


def begin(location: StoreLike, header: StoreHeader) -> Status:
    """Create the store, or find it resumable or already complete. Call under the store lock.

    Returns ``"complete"`` (nothing to do), ``"resume"`` (some parts may be done) or ``"new"``.
    """
    loc = normalize(location)
    attrs = read_attrs(loc) if exists(loc) else None
    if attrs is not None and header.matches(attrs):
        if attrs.get(COMPLETE):
            return "complete"
        remove_partial_writes(loc)  # what the interrupted run was writing when it was killed
        return "resume"
    _check_replaceable(loc, attrs)
    remove(loc)
    create_store(loc, header.to_attrs(), [PARTS, *(f"{PARTS}/{split}" for split in header.splits)])
    return "new"


def _check_replaceable(loc: str, attrs: Mapping[str, Any] | None) -> None:
    """Refuse to erase anything at ``loc`` but an events store (or an empty or half-created one)."""
    kind = attrs.get(KIND_ATTR) if attrs is not None else None
    if kind not in (None, KIND):
        raise StoreSchemaError(f"{loc} is a {kind!r} store, not an events store; refusing to replace it.")
    if attrs is None and not exists(loc) and is_local(loc) and Path(loc).is_dir() and any(Path(loc).iterdir()):
        raise StoreSchemaError(f"{loc} exists and is not a Zarr store; refusing to replace it. Move it away.")


def completed_parts(location: StoreLike, split: str, keys: Sequence[str]) -> set[str]:
    """The keys among ``keys`` whose part carries its completion flag."""
    loc = normalize(location)
    done = set()
    for key in keys:
        attrs = read_attrs(loc, part_path(split, key))
        if attrs is not None and attrs.get(COMPLETE):
            done.add(key)
    return done


def write_part(
    location: StoreLike,
    split: str,
    key: str,
    batch: EncodedBatch,
    *,
    sources: Sequence[Mapping[str, Any]],
    skipped: Sequence[Mapping[str, Any]] = (),
) -> dict[str, int]:
    """Write one part (its own group and arrays) and mark it complete; return its sizes.

    ``batch`` comes from :func:`eventpipe.store.events.encoding.encode`. ``sources`` lists the raw
    files checksummed (path relative to the raw folder, size, checksum) and ``skipped`` the files
    left out as corrupt (path, byte offset, reason).
    """
    loc, path = normalize(location), part_path(split, key)
    remove(join(loc, path))  # what an interrupted attempt left, if anything
    chunk = min(codecs.event_chunk(np.diff(batch.offsets)), max(batch.n_events, 1))
    nodes, writes = [], []
    for name in COLUMNS:
        col = batch.columns[name]
        metadata, chunks = blosc_array(f"{path}/{name}", col, codecs.column_compressor(name, col.dtype, chunk), chunk)
        nodes.append((f"{path}/{name}", metadata))
        writes += chunks
    write_nodes(loc, nodes, writes)
    summary = {
        "n_samples": len(batch),
        "n_events": batch.n_events,
        "index": {
            "offsets": batch.offsets.tolist(),
            "labels": batch.labels.tolist(),
            "t0": batch.t0.tolist(),
            "t1": batch.t1.tolist(),
        },
        "meta": {k: list(v) for k, v in batch.meta.items()},
        "sources": [dict(s) for s in sources],
        "skipped": [dict(s) for s in skipped],
    }
    mark_complete(loc, path, summary)
    return {"n_samples": len(batch), "n_events": batch.n_events}


def _meta_array(values: list[Any]) -> np.ndarray:
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    return np.asarray([str(v) for v in values], dtype=np.dtypes.StringDType())


def finalize(location: StoreLike, header: StoreHeader, parts: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Index every split from its parts and mark the store complete; return the root attributes.

    ``parts`` maps each split to its part keys in order. Raises :class:`StoreSchemaError` if a part
    is not complete.
    """
    loc = normalize(location)
    root_attrs = read_attrs(loc)
    if root_attrs is None:  # checked before anything is written: Zarr would recreate a bare root
        raise StoreSchemaError(f"{loc}: the events store's root metadata is missing or unreadable; convert again.")
    sources: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    num_samples: dict[str, int] = {}
    num_events: dict[str, int] = {}
    for split in header.splits:
        keys = list(parts.get(split, ()))
        offsets, labels, t0, t1 = [np.zeros(1, np.int64)], [], [], []
        part_samples, part_events = [0], [0]
        meta: dict[str, list[Any]] | None = None
        for key in keys:
            attrs = read_attrs(loc, part_path(split, key))
            if attrs is None or not attrs.get(COMPLETE):
                raise StoreSchemaError(f"{loc}: part {split}/{key} is not complete; run the conversion again.")
            index = attrs["index"]
            offsets.append(np.asarray(index["offsets"][1:], dtype=np.int64) + part_events[-1])
            labels.append(np.asarray(index["labels"], dtype=np.int64))
            t0.append(np.asarray(index["t0"], dtype=np.int64))
            t1.append(np.asarray(index["t1"], dtype=np.int64))
            if attrs["n_samples"]:
                if meta is None:
                    meta = {col: [] for col in attrs["meta"]}
                if sorted(attrs["meta"]) != sorted(meta):
                    raise StoreSchemaError(
                        f"{loc}: part {split}/{key} has metadata columns {sorted(attrs['meta'])}, "
                        f"earlier parts {sorted(meta)}."
                    )
                for col, values in attrs["meta"].items():
                    meta[col].extend(values)
            part_samples.append(part_samples[-1] + attrs["n_samples"])
            part_events.append(part_events[-1] + attrs["n_events"])
            sources.extend(attrs["sources"])
            skipped.extend({**s, "split": split} for s in attrs["skipped"])
        meta = meta or {}
        index = {"offsets": np.concatenate(offsets)}
        for name, values in (("labels", labels), ("t0", t0), ("t1", t1)):
            index[name] = np.concatenate(values) if values else np.zeros(0, np.int64)
        index["part_samples"] = np.asarray(part_samples, dtype=np.int64)
        index["part_events"] = np.asarray(part_events, dtype=np.int64)
        for col in sorted(meta):
            index[f"meta/{col}"] = _meta_array(meta[col])
        write_split_index(loc, split, index, {"parts": keys, "meta_columns": sorted(meta)})
        num_samples[split] = part_samples[-1]
        num_events[split] = part_events[-1]
    unique_sources = sorted({s["path"]: s for s in sources}.values(), key=lambda s: s["path"])
    _write_sources(loc, unique_sources)
    skipped.sort(key=lambda s: (s["path"], s["split"]))
    summary = {
        "sources": {"count": len(unique_sources), "bytes": sum(int(s["size"]) for s in unique_sources),
                    "digest": fingerprint(unique_sources)},
        "skipped": skipped,
        "num_samples": num_samples,
        "num_events": num_events,
    }
    summary["fingerprint"] = store_fingerprint({**header.to_attrs(), **summary})
    return mark_complete(loc, "", {**root_attrs, **summary})


def _write_sources(loc: str, sources: Sequence[Mapping[str, Any]]) -> None:
    """The list of raw files read, as three arrays (path, size, checksum) under ``sources/``.

    Kept out of the root attributes: a dataset of many small files would otherwise make every open
    of the store parse a long JSON list.
    """
    remove(join(loc, SOURCES))
    write_nodes(loc, [(SOURCES, group_metadata())])
    write_index(loc, {
        f"{SOURCES}/path": np.asarray([s["path"] for s in sources], dtype=np.dtypes.StringDType()),
        f"{SOURCES}/size": np.asarray([int(s["size"]) for s in sources], dtype=np.int64),
        f"{SOURCES}/checksum": np.asarray([s["checksum"] for s in sources], dtype=np.dtypes.StringDType()),
    })


def is_store_complete(location: StoreLike) -> bool:
    """True when the store at ``location`` exists and is marked complete."""
    return is_complete(normalize(location))
