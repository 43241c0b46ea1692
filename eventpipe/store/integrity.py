"""Consistency check of any store on disk: :func:`check_integrity` reads the root attribute
:data:`~eventpipe.store.markers.KIND_ATTR` and runs that kind's checker
(:func:`~eventpipe.store.events.integrity.check_events_store`,
:func:`~eventpipe.store.frames.integrity.check_frames_store`,
:func:`~eventpipe.store.images.integrity.check_images_store`), then checks that every chunk of every
array is stored and matches its checksum (:func:`check_all_chunks`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventpipe.errors import DataNotFoundError, StoreSchemaError
from eventpipe.store._zarr import DAMAGED, all_arrays, check_chunks, open_array
from eventpipe.store.events import layout as events_layout
from eventpipe.store.events.integrity import check_events_store
from eventpipe.store.frames import layout as frames_layout
from eventpipe.store.frames.integrity import check_frames_store
from eventpipe.store.images import layout as images_layout
from eventpipe.store.images.integrity import check_images_store
from eventpipe.store.location import StoreLike, exists, normalize
from eventpipe.store.markers import KIND_ATTR, read_attrs

_CHECKERS: dict[str, tuple[Callable[[str, dict[str, Any]], list[str]], int]] = {
    events_layout.KIND: (check_events_store, events_layout.SCHEMA_VERSION),
    frames_layout.KIND: (check_frames_store, frames_layout.SCHEMA_VERSION),
    images_layout.KIND: (check_images_store, images_layout.SCHEMA_VERSION),
}


def check_all_chunks(location: str) -> list[str]:
    """Problems with the chunks of every array of the store at ``location``: each one missing or
    failing its checksum (:func:`~eventpipe.store._zarr.check_chunks`); no chunk is decoded."""
    problems = []
    for path in all_arrays(location):
        try:
            arr = open_array(location, path)
        except (DataNotFoundError, StoreSchemaError) as exc:
            problems.append(str(exc))
            continue
        problems += check_chunks(arr)
    return problems


def check_integrity(location: StoreLike, quick: bool = False) -> list[str]:
    """Problems found in the store at ``location`` (a local path or fsspec URL); ``[]`` means sound.

    Checks completion markers, schema version, offsets (monotonic, consistent with the stored arrays'
    lengths), labels within the class list and the fingerprint; then, unless ``quick``, that every
    chunk of every array is stored and matches its checksum (reading every chunk once).
    """
    loc = normalize(location)
    if not exists(loc):
        return [f"{loc}: no store found."]
    attrs = read_attrs(loc)
    if attrs is None:
        return [f"{loc}: the root metadata cannot be read."]
    kind = attrs.get(KIND_ATTR)
    if str(kind) not in _CHECKERS:
        return [f"{loc}: unknown store kind {kind!r} (attribute {KIND_ATTR!r})."]
    checker, version = _CHECKERS[str(kind)]
    problems = checker(loc, attrs)
    if not quick and attrs.get("schema_version") == version:  # an older store's one problem is its version
        damaged = [p for p in check_all_chunks(loc) if not any(p.rstrip(".") in q for q in problems)]
        if damaged:  # the fix once, after the last chunk named
            damaged[-1] = f"{damaged[-1].rstrip('.')}; {DAMAGED}"
        problems += damaged
    return problems
