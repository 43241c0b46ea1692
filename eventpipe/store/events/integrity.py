"""Consistency checks of an events store: completion, schema, fingerprint, source list, every split
and part index, without reading any event data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from eventpipe.errors import StoreCorruptError, StoreSchemaError
from eventpipe.store.checks import check_fingerprint, check_offsets
from eventpipe.store.events.layout import COLUMNS, SCHEMA_VERSION, part_path, store_fingerprint
from eventpipe.store.events.reader import read_sources
from eventpipe.store.index import read_index
from eventpipe.store.location import array_node, group_node, open_group
from eventpipe.store.markers import COMPLETE, fingerprint, read_attrs


def check_events_store(location: str, attrs: dict[str, Any]) -> list[str]:
    """Problems found in the finished events store at ``location`` with root attributes ``attrs``
    (see :func:`eventpipe.store.integrity.check_integrity`)."""
    if attrs.get("schema_version") != SCHEMA_VERSION:
        return [f"{location}: schema version {attrs.get('schema_version')}, expected {SCHEMA_VERSION}; "
                f"rebuild it with `eventpipe convert {attrs.get('dataset', 'NAME')}`."]
    if not attrs.get(COMPLETE):
        return [f"{location}: not complete (the conversion was interrupted); run `eventpipe convert` again."]
    problems = check_fingerprint(attrs, store_fingerprint(attrs), location)
    try:
        digest = fingerprint(read_sources(location))
    except StoreCorruptError as exc:
        problems.append(str(exc))
    except (OSError, KeyError, ValueError) as exc:
        problems.append(f"{location}: the source list is unreadable ({exc}).")
    else:
        if digest != attrs.get("sources", {}).get("digest"):
            problems.append(f"{location}: the source list does not match its recorded digest.")
    n_classes = len(attrs.get("classes", []))
    for split in attrs.get("splits", []):
        problems += _check_split(location, split, n_classes, attrs)
    return problems


def _check_split(location: str, split: str, n_classes: int, attrs: Mapping[str, Any]) -> list[str]:
    what = f"{location} split {split!r}"
    try:
        group = open_group(location, "r", path=split)
        index = read_index(location, split, ("offsets", "labels", "t0", "t1", "part_samples", "part_events"))
        parts = [str(k) for k in group.attrs["parts"]]  # type: ignore[union-attr]
        meta = {name: arr.shape[0] for name, arr in group_node(group, "meta").arrays()}
    except StoreCorruptError as exc:
        return [str(exc)]
    except (OSError, KeyError, ValueError, TypeError) as exc:
        return [f"{what}: index unreadable ({exc})."]
    n = len(index["labels"])
    problems = []
    if len(index["offsets"]) != n + 1:
        problems.append(f"{what}: {len(index['offsets'])} offsets for {n} labels (expected n + 1).")
    for name in ("t0", "t1"):
        if len(index[name]) != n:
            problems.append(f"{what}: {len(index[name])} {name} values for {n} samples.")
    if len(index["t0"]) == len(index["t1"]) and np.any(index["t1"] < index["t0"]):
        problems.append(f"{what}: some samples end (t1) before they start (t0).")
    for name, length in meta.items():
        if length != n:
            problems.append(f"{what}: metadata column {name!r} has {length} values for {n} samples.")
    if n and (index["labels"].min() < 0 or index["labels"].max() >= n_classes):
        problems.append(f"{what}: labels outside [0, {n_classes - 1}].")
    if len(index["part_samples"]) != len(parts) + 1 or len(index["part_events"]) != len(parts) + 1:
        return [*problems, f"{what}: the part index does not match its {len(parts)} parts."]
    total = int(index["part_events"][-1])
    problems += check_offsets(index["offsets"], total, what)
    problems += check_offsets(index["part_samples"], n, f"{what} part samples")
    for j, key in enumerate(parts):
        problems += _check_part(location, split, key, index, j)
    for key, count in (("num_samples", n), ("num_events", total)):
        recorded = attrs.get(key, {}).get(split)
        if recorded != count:
            problems.append(f"{what}: root attribute {key} says {recorded}, the index holds {count}.")
    return problems


def _check_part(location: str, split: str, key: str, index: Mapping[str, np.ndarray], j: int) -> list[str]:
    what = f"{location} part {split}/{key}"
    path = part_path(split, key)
    part = read_attrs(location, path)
    if part is None or not part.get(COMPLETE):
        return [f"{what}: missing or not complete."]
    s0, s1 = int(index["part_samples"][j]), int(index["part_samples"][j + 1])
    e0, e1 = int(index["part_events"][j]), int(index["part_events"][j + 1])
    problems = []
    if part["n_samples"] != s1 - s0 or part["n_events"] != e1 - e0:
        problems.append(f"{what}: holds {part['n_samples']} samples / {part['n_events']} events, "
                        f"the split index says {s1 - s0} / {e1 - e0}.")
    local = np.asarray(part["index"]["offsets"], dtype=np.int64)
    if len(local) == s1 - s0 + 1 and not np.array_equal(local + e0, index["offsets"][s0:s1 + 1]):
        problems.append(f"{what}: its offsets disagree with the split index.")
    group = open_group(location, "r", path=path)
    for name in COLUMNS:
        try:
            length = array_node(group, name).shape[0]
        except (KeyError, StoreSchemaError):
            problems.append(f"{what}: column {name!r} is missing.")
            continue
        if length != part["n_events"]:
            problems.append(f"{what}: column {name!r} has {length} events, expected {part['n_events']}.")
    return problems
