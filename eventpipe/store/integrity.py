"""Consistency checks of a store on disk, for events stores and (through a hook) frames stores.

:func:`check_integrity` reads the root attribute ``eventpipe_store`` to learn the kind of store and
runs that kind's checker. The events checker lives here. Other kinds register theirs with
:func:`register_integrity_check`; the frames store module does so when it is imported, and
:func:`check_integrity` imports the module named in :data:`CHECKER_MODULES` for a kind it has no
checker for yet, so callers never need to import it themselves::

    # eventpipe/store/frames_store.py
    from eventpipe.store.integrity import register_integrity_check

    def check_frames_store(location: str, attrs: dict) -> list[str]:
        ...  # one readable sentence per problem; [] when the store is sound

    register_integrity_check("frames", check_frames_store)

Helpers shared by every checker: :func:`check_offsets` and :func:`check_fingerprint`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from eventpipe.errors import StoreSchemaError
from eventpipe.store.events_layout import COLUMNS, KIND, KIND_ATTR, PARTS, SCHEMA_VERSION
from eventpipe.store.location import (
    StoreLike,
    array_node,
    exists,
    group_node,
    normalize,
    open_group,
    read_array,
)
from eventpipe.store.markers import COMPLETE, fingerprint, read_attrs

Checker = Callable[[str, dict[str, Any]], list[str]]
"""``checker(location, root_attrs) -> problems``: one sentence per problem, ``[]`` when sound."""

CHECKER_MODULES = {"frames": "eventpipe.store.frames_store"}
"""Module to import for a store kind whose checker is not registered yet."""

_CHECKERS: dict[str, Checker] = {}


def register_integrity_check(kind: str, checker: Checker) -> None:
    """Make :func:`check_integrity` use ``checker`` for stores whose ``eventpipe_store`` attribute is ``kind``."""
    _CHECKERS[kind] = checker


def check_integrity(location: StoreLike) -> list[str]:
    """Problems found in the store at ``location`` (a local path or fsspec URL); ``[]`` means sound.

    Checks completion markers, schema version, offsets (monotonic, consistent with the stored arrays'
    lengths), labels within the class list and the fingerprint, without reading any event data.
    """
    loc = normalize(location)
    if not exists(loc):
        return [f"{loc}: no store found."]
    attrs = read_attrs(loc)
    if attrs is None:
        return [f"{loc}: the root metadata cannot be read."]
    kind = attrs.get(KIND_ATTR)
    if kind not in _CHECKERS and kind in CHECKER_MODULES:
        try:
            importlib.import_module(CHECKER_MODULES[kind])
        except ImportError as exc:
            return [f"{loc}: no integrity check available for {kind!r} stores ({exc})."]
    checker = _CHECKERS.get(str(kind))
    if checker is None:
        return [f"{loc}: unknown store kind {kind!r} (attribute {KIND_ATTR!r})."]
    return checker(loc, attrs)


def check_offsets(offsets: np.ndarray, total: int, what: str) -> list[str]:
    """Problems with an ``offsets[n+1]`` array that should rise from 0 to ``total``."""
    problems = []
    if len(offsets) == 0:
        return [f"{what}: offsets is empty (needs n + 1 entries)."]
    if offsets[0] != 0:
        problems.append(f"{what}: offsets[0] = {int(offsets[0])}, expected 0.")
    steps = np.diff(offsets)
    if len(steps) and steps.min() < 0:
        i = int(np.argmax(steps < 0))
        problems.append(f"{what}: offsets decrease at {i + 1}: {int(offsets[i])} -> {int(offsets[i + 1])}.")
    if offsets[-1] != total:
        problems.append(f"{what}: offsets[-1] = {int(offsets[-1])}, but {total} items are stored.")
    return problems


def check_fingerprint(attrs: Mapping[str, Any], expected: str, what: str) -> list[str]:
    """A problem when the recorded fingerprint differs from ``expected`` (recomputed from the contents)."""
    recorded = attrs.get("fingerprint")
    if recorded != expected:
        return [f"{what}: fingerprint {recorded!r} does not match its contents ({expected!r})."]
    return []


def check_events_store(location: str, attrs: dict[str, Any]) -> list[str]:
    """The events store checker (see :func:`check_integrity`)."""
    from eventpipe.store.events_writer import read_sources, store_fingerprint

    if attrs.get("schema_version") != SCHEMA_VERSION:
        return [f"{location}: schema version {attrs.get('schema_version')}, expected {SCHEMA_VERSION}."]
    if not attrs.get(COMPLETE):
        return [f"{location}: not complete (the conversion was interrupted); run `eventpipe convert` again."]
    problems = check_fingerprint(attrs, store_fingerprint(attrs), location)
    try:
        digest = fingerprint(read_sources(location))
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
        index = {k: read_array(group, k) for k in ("offsets", "labels", "t0", "t1", "part_samples", "part_events")}
        parts = [str(k) for k in group.attrs["parts"]]  # type: ignore[union-attr]
        meta = {name: arr.shape[0] for name, arr in group_node(group, "meta").arrays()}
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
    path = f"{PARTS}/{split}/{key}"
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


register_integrity_check(KIND, check_events_store)
