"""Kinds, fingerprints and completion markers: how a store knows what it holds and what is finished.

The root attribute :data:`KIND_ATTR` names the kind of store. A store is keyed by its fingerprint,
never by its existence: :func:`fingerprint` hashes a canonical JSON rendering of everything that
determines the contents (configuration, schema version, source checksums). A unit of work (a part
of an events store, a block of a frames store) is finished only when its completion marker is
present, and the marker is written after its data, in one write of the node's ``zarr.json``; an
interrupted run therefore leaves no marker and the unit is redone.

>>> fingerprint({"b": 1, "a": [1, 2]}) == fingerprint({"a": [1, 2], "b": 1})
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from eventpipe.store._zarr import group_metadata, read_group_attrs, write_nodes

KIND_ATTR = "eventpipe_store"
"""Root attribute naming the kind of store (``"events"``, ``"frames"``)."""
COMPLETE = "complete"
"""Attribute set to ``True``, in the same write as the node's summary, once its data is written."""


def canonical_json(payload: Any) -> str:
    """``payload`` as JSON with sorted keys and no whitespace: equal values give equal text."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def fingerprint(payload: Any) -> str:
    """Hex SHA-256 of :func:`canonical_json` of ``payload``."""
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def mark_complete(location: str, path: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Make ``attributes`` and the completion flag the attributes of the group at ``path``, in one
    write of its ``zarr.json`` (its data must be written before); returns them."""
    attrs = {**attributes, COMPLETE: True}
    write_nodes(location, [(path, group_metadata(attrs))])
    return attrs


def is_complete(location: str, path: str = "") -> bool:
    """True when the group at ``path`` carries the completion flag (False when missing or unreadable)."""
    attrs = read_attrs(location, path)
    return bool(attrs is not None and attrs.get(COMPLETE, False))


def read_attrs(location: str, path: str = "") -> dict[str, Any] | None:
    """The attributes of the group at ``path`` in the store at ``location``, or None when the group is
    missing or its metadata is unreadable (for example cut short by a killed process)."""
    return read_group_attrs(location, path)


def file_sha256(path: str, block_size: int = 1 << 22) -> str:
    """Hex SHA-256 of a file's bytes, read in ``block_size`` blocks into one reused buffer."""
    digest = hashlib.sha256()
    buf = bytearray(block_size)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()
