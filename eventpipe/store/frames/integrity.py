"""Consistency checks of a frames store: completion, schema, fingerprint, every split's index and
every block's summary and array shape, without reading any frame data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from eventpipe.errors import StoreCorruptError
from eventpipe.events import SensorSize
from eventpipe.store.checks import check_fingerprint, check_offsets
from eventpipe.store.frames.layout import SCHEMA_VERSION, block_path, frames_fingerprint
from eventpipe.store.index import read_index
from eventpipe.store.location import array_node, open_group
from eventpipe.store.markers import COMPLETE, read_attrs


def check_frames_store(location: str, attrs: dict[str, Any]) -> list[str]:
    """Problems found in the finished frames store at ``location`` with root attributes ``attrs``
    (see :func:`eventpipe.store.integrity.check_integrity`)."""
    if attrs.get("schema_version") != SCHEMA_VERSION:
        return [f"{location}: schema version {attrs.get('schema_version')}, expected {SCHEMA_VERSION}; "
                f"rebuild it with `eventpipe prepare {attrs.get('dataset', 'NAME')} --overwrite`."]
    if not attrs.get(COMPLETE):
        return [f"{location}: not complete (the integration was interrupted); run `eventpipe prepare` again."]
    problems = check_fingerprint(attrs, frames_fingerprint(attrs), location)
    for split in attrs.get("splits", []):
        problems += _check_split(location, split, attrs)
    return problems


def _check_split(location: str, split: str, attrs: Mapping[str, Any]) -> list[str]:
    what = f"{location} split {split!r}"
    try:
        index = read_index(location, split, ("offsets", "labels", "block_samples", "block_frames"))
    except StoreCorruptError as exc:
        return [str(exc)]
    except (OSError, KeyError, ValueError) as exc:
        return [f"{what}: index unreadable ({exc})."]
    n = len(index["labels"])
    problems = check_offsets(index["offsets"], int(index["block_frames"][-1]) if len(index["block_frames"]) else 0, what)
    if len(index["offsets"]) != n + 1:
        problems.append(f"{what}: {len(index['offsets'])} offsets for {n} labels (expected n + 1).")
    n_classes = len(attrs.get("classes", []))
    if n and (index["labels"].min() < 0 or index["labels"].max() >= n_classes):
        problems.append(f"{what}: labels outside [0, {n_classes - 1}].")
    if list(index["block_samples"]) != list(attrs.get("blocks", {}).get(split, [])):
        problems.append(f"{what}: block_samples disagree with the planned blocks.")
    problems += check_offsets(index["block_samples"], n, f"{what} block samples")
    fixed_t = attrs.get("fixed_t")
    shape = tuple(SensorSize(*attrs["sensor"]).frame_shape(0)[1:])
    bounds = index["block_samples"]
    for j in range(len(bounds) - 1):
        block = read_attrs(location, block_path(split, j))
        where = f"{location} block {split}/{j}"
        if block is None or not block.get(COMPLETE):
            problems.append(f"{where}: missing or not complete.")
            continue
        s0, s1 = int(bounds[j]), int(bounds[j + 1])
        counts = np.asarray(block["n_frames"], dtype=np.int64)
        if len(counts) != s1 - s0 or not np.array_equal(counts, np.diff(index["offsets"][s0:s1 + 1])):
            problems.append(f"{where}: its frame counts disagree with the split offsets.")
        expected = (s1 - s0, fixed_t, *shape) if fixed_t is not None else (int(counts.sum()), *shape)
        try:
            found = tuple(array_node(open_group(location, "r", path=block_path(split, j)), "frames").shape)
        except (OSError, KeyError, ValueError):
            found = None
        if found != expected:
            problems.append(f"{where}: frames array has shape {found}, expected {expected}.")
    return problems
