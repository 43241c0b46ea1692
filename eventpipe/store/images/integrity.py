"""Consistency checks of an images store: completion, schema, fingerprint, and every split's index
and block shapes, without reading any image (the chunks' checksums are checked by
:func:`eventpipe.store.integrity.check_all_chunks`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventpipe.errors import StoreCorruptError
from eventpipe.store.checks import check_fingerprint
from eventpipe.store.images.layout import SCHEMA_VERSION, block_path, images_fingerprint
from eventpipe.store.index import read_index
from eventpipe.store.location import array_node, open_group
from eventpipe.store.markers import COMPLETE, read_attrs


def check_images_store(location: str, attrs: dict[str, Any]) -> list[str]:
    """Problems found in the finished images store at ``location`` with root attributes ``attrs``."""
    if attrs.get("schema_version") != SCHEMA_VERSION:
        return [f"{location}: schema version {attrs.get('schema_version')}, expected {SCHEMA_VERSION}; "
                f"rebuild it with `eventpipe prepare {attrs.get('dataset', 'NAME')} --overwrite`."]
    if not attrs.get(COMPLETE):
        return [f"{location}: not complete (the conversion was interrupted); run `eventpipe prepare` again."]
    problems = check_fingerprint(attrs, images_fingerprint(attrs), location)
    for split in attrs.get("splits", []):
        problems += _check_split(location, split, attrs)
    return problems


def _check_split(location: str, split: str, attrs: Mapping[str, Any]) -> list[str]:
    what = f"{location} split {split!r}"
    try:
        index = read_index(location, split, ("labels", "block_samples"))
    except StoreCorruptError as exc:
        return [str(exc)]
    except (OSError, KeyError, ValueError) as exc:
        return [f"{what}: index unreadable ({exc})."]
    problems = []
    bounds = [int(b) for b in index["block_samples"]]
    if bounds != [int(b) for b in attrs.get("blocks", {}).get(split, [])]:
        problems.append(f"{what}: block_samples disagree with the planned blocks.")
    labels = index["labels"]
    if len(labels) != (bounds[-1] if bounds else 0):
        problems.append(f"{what}: {len(labels)} labels for {bounds[-1] if bounds else 0} images.")
    n_classes = len(attrs.get("classes", []))
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        problems.append(f"{what}: labels outside [0, {n_classes - 1}].")
    shape = tuple(int(v) for v in attrs.get("shape", ()))
    for j in range(len(bounds) - 1):
        where = f"{location} block {split}/{j}"
        block = read_attrs(location, block_path(split, j))
        if block is None or not block.get(COMPLETE):
            problems.append(f"{where}: missing or not complete.")
            continue
        expected = (bounds[j + 1] - bounds[j], *shape)
        try:
            found = tuple(array_node(open_group(location, "r", path=block_path(split, j)), "images").shape)
        except (OSError, KeyError, ValueError):
            found = None
        if found != expected:
            problems.append(f"{where}: images array has shape {found}, expected {expected}.")
    return problems
