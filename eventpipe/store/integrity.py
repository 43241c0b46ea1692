"""Consistency check of any store on disk: :func:`check_integrity` reads the root attribute
:data:`~eventpipe.store.markers.KIND_ATTR` and runs that kind's checker
(:func:`~eventpipe.store.events.integrity.check_events_store`,
:func:`~eventpipe.store.frames.integrity.check_frames_store`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventpipe.store.events import layout as events_layout
from eventpipe.store.events.integrity import check_events_store
from eventpipe.store.frames import layout as frames_layout
from eventpipe.store.frames.integrity import check_frames_store
from eventpipe.store.location import StoreLike, exists, normalize
from eventpipe.store.markers import KIND_ATTR, read_attrs

_CHECKERS: dict[str, Callable[[str, dict[str, Any]], list[str]]] = {
    events_layout.KIND: check_events_store,
    frames_layout.KIND: check_frames_store,
}


def check_integrity(location: StoreLike) -> list[str]:
    """Problems found in the store at ``location`` (a local path or fsspec URL); ``[]`` means sound.

    Checks completion markers, schema version, offsets (monotonic, consistent with the stored arrays'
    lengths), labels within the class list and the fingerprint, without reading any event or frame data.
    """
    loc = normalize(location)
    if not exists(loc):
        return [f"{loc}: no store found."]
    attrs = read_attrs(loc)
    if attrs is None:
        return [f"{loc}: the root metadata cannot be read."]
    kind = attrs.get(KIND_ATTR)
    checker = _CHECKERS.get(str(kind))
    if checker is None:
        return [f"{loc}: unknown store kind {kind!r} (attribute {KIND_ATTR!r})."]
    return checker(loc, attrs)
