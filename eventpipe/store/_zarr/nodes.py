"""Zarr v3 node metadata (``zarr.json``) written and read directly, without Zarr's async machinery.

Creating a group or an array through Zarr's API checks what is in the way and writes its
``zarr.json``, each step hopping to Zarr's event-loop thread and a worker thread: most of the cost of
writing a small node. Here the documents are built with Zarr's own metadata classes
(:class:`~zarr.core.metadata.v3.ArrayV3Metadata`, :class:`~zarr.core.group.GroupMetadata`) and
written as files, so they are Zarr's to the byte (a test compares them with ``create_array``'s) and
Zarr opens the nodes as its own. Reading goes the same way: :func:`read_group_attrs`,
:func:`open_array` (a ``zarr.Array`` built from its document), :func:`child_arrays` and :func:`all_arrays` read a local
store's documents as files; other stores (fsspec URLs) go through Zarr for reading and get every
object whole, in one call, for writing.

>>> metadata = array_metadata((4,), np.dtype("int64"), (4,), codecs=[{"name": "bytes"}])
>>> metadata.encode_chunk_key((0,))
'c/0'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eventpipe.errors import DataNotFoundError, StoreSchemaError
from eventpipe.store._zarr.storage import put_objects, store_of
from eventpipe.store.location import StoreLike, is_local, normalize, open_group

if TYPE_CHECKING:
    import zarr
    from zarr.core.group import GroupMetadata
    from zarr.core.metadata.v3 import ArrayV3Metadata

METADATA = "zarr.json"


def group_metadata(attributes: Mapping[str, Any] | None = None) -> GroupMetadata:
    """A Zarr v3 group's metadata with ``attributes``."""
    from zarr.core.group import GroupMetadata

    return GroupMetadata(attributes=dict(attributes or {}), zarr_format=3)


def array_metadata(
    shape: Sequence[int], dtype: np.dtype[Any], chunks: Sequence[int], codecs: Iterable[Any], fill_value: Any = 0,
    attributes: Mapping[str, Any] | None = None,
) -> ArrayV3Metadata:
    """A Zarr v3 array's metadata: regular ``chunks``, default ``/`` chunk keys, ``codecs`` in order
    (serializer first, then compressors), as ``create_array`` would make it."""
    from zarr.core.metadata.v3 import ArrayV3Metadata

    return ArrayV3Metadata(
        shape=tuple(shape),
        data_type=_zarr_dtype(np.dtype(dtype)),
        chunk_grid={"name": "regular", "configuration": {"chunk_shape": tuple(chunks)}},
        chunk_key_encoding={"name": "default", "separator": "/"},
        fill_value=fill_value,
        codecs=tuple(codecs),
        attributes=dict(attributes or {}),
        dimension_names=None,
    )


@lru_cache(maxsize=64)
def _zarr_dtype(dtype: np.dtype[Any]) -> Any:
    """Zarr's data type for ``dtype``, cached: it is immutable, and finding it searches Zarr's registry."""
    from zarr.core.dtype import get_data_type_from_native_dtype

    return get_data_type_from_native_dtype(dtype)


def document(metadata: GroupMetadata | ArrayV3Metadata) -> bytes:
    """The ``zarr.json`` bytes of ``metadata``."""
    from zarr.core.buffer import default_buffer_prototype

    return metadata.to_buffer_dict(default_buffer_prototype())[METADATA].to_bytes()


def metadata_key(path: str) -> str:
    """The store key of the ``zarr.json`` of the node at ``path`` (``""`` is the root)."""
    return f"{path}/{METADATA}" if path else METADATA


def write_nodes(location: StoreLike, nodes: Sequence[tuple[str, GroupMetadata | ArrayV3Metadata]],
                chunks: Sequence[tuple[str, bytes]] = ()) -> None:
    """Write the encoded ``chunks`` (``(key, bytes)``) and then the ``zarr.json`` of every
    ``(path, metadata)`` of ``nodes``. Nothing is checked or erased: callers remove what is in the
    way first.

    A local store's documents are written whole or not at all (a ``.partial`` file renamed into
    place; :func:`~eventpipe.store.location.remove_partial_writes` clears what a killed process
    left), so a completion marker is never half-written; other stores write each object whole.
    """
    loc = normalize(location)
    documents = [(metadata_key(path), document(meta)) for path, meta in nodes]
    if not is_local(loc):
        put_objects(store_of(loc), [*chunks, *documents])
        return
    put_objects(store_of(loc), chunks)
    for key, data in documents:
        target = Path(loc, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")  # one per writer
        partial.write_bytes(data)
        os.replace(partial, target)


def create_store(location: StoreLike, attributes: Mapping[str, Any], groups: Sequence[str]) -> None:
    """Write a new store's empty ``groups`` and then its root group with ``attributes``: a store
    found with its root attributes has all of its groups. Call with nothing at ``location``."""
    write_nodes(location, [(path, group_metadata()) for path in groups])
    write_nodes(location, [("", group_metadata(attributes))])


def read_group_attrs(location: StoreLike, path: str = "") -> dict[str, Any] | None:
    """The attributes of the group at ``path``, or None when no readable Zarr v3 group is there
    (missing, an array, or metadata cut short by a killed process). Local stores read the file
    directly; other stores go through Zarr."""
    loc = normalize(location)
    if not is_local(loc):
        return _read_with_zarr(loc, path)
    try:
        meta = json.loads(Path(loc, path, METADATA).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("zarr_format") != 3 or meta.get("node_type") != "group":
        return None
    attrs = meta.get("attributes", {})
    return dict(attrs) if isinstance(attrs, dict) else None


def open_array(location: StoreLike, path: str) -> zarr.Array:
    """The Zarr v3 array at ``path`` of the store at ``location``, for reading. A local store's
    ``zarr.json`` is read here and the array built from it without further I/O; other stores open
    it through Zarr.

    Raises
    ------
    DataNotFoundError
        No node is at ``path``.
    StoreSchemaError
        Something other than a readable Zarr v3 array is there.
    """
    import zarr
    from zarr.core.array import AsyncArray
    from zarr.core.metadata.v3 import ArrayV3Metadata
    from zarr.storage import LocalStore, StorePath

    loc = normalize(location)
    where = f"{loc}/{path}"
    if not is_local(loc):
        try:
            return zarr.open_array(store=loc, path=path, mode="r", zarr_format=3)
        except FileNotFoundError as exc:
            raise DataNotFoundError(f"No Zarr array found at {where}.") from exc
        except (TypeError, ValueError, KeyError) as exc:
            raise StoreSchemaError(f"{where} is not a readable Zarr v3 array ({exc}).") from exc
    try:
        meta = json.loads(Path(loc, path, METADATA).read_bytes())
    except FileNotFoundError as exc:
        raise DataNotFoundError(f"No Zarr array found at {where}.") from exc
    except (OSError, ValueError) as exc:
        raise StoreSchemaError(f"{where}: the array metadata cannot be read ({exc}).") from exc
    if not isinstance(meta, dict) or meta.get("zarr_format") != 3 or meta.get("node_type") != "array":
        raise StoreSchemaError(f"{where} is not a Zarr v3 array.")
    try:
        metadata = ArrayV3Metadata.from_dict(meta)
    except (TypeError, ValueError, KeyError) as exc:
        raise StoreSchemaError(f"{where}: invalid array metadata ({exc}).") from exc
    return zarr.Array(AsyncArray(metadata, StorePath(LocalStore(loc, read_only=True), path)))


def child_arrays(location: StoreLike, path: str) -> list[str]:
    """Names of the arrays directly inside the group at ``path``, sorted; :class:`DataNotFoundError`
    when no group is there."""
    loc = normalize(location)
    if read_group_attrs(loc, path) is None:
        raise DataNotFoundError(f"No Zarr group found at {loc}/{path}.")
    if not is_local(loc):
        return sorted(open_group(loc, "r", path=path).array_keys())
    names = []
    for entry in os.scandir(Path(loc, path)):
        try:
            meta = json.loads(Path(entry.path, METADATA).read_bytes()) if entry.is_dir() else None
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and meta.get("node_type") == "array":
            names.append(entry.name)
    return sorted(names)


def all_arrays(location: StoreLike) -> list[str]:
    """Paths of every array in the store at ``location``, at any depth, sorted."""
    loc = normalize(location)
    if not is_local(loc):
        import zarr

        return sorted(path for path, node in open_group(loc, "r").members(max_depth=None) if isinstance(node, zarr.Array))
    found = []
    for dirpath, dirs, files in os.walk(loc):
        if METADATA not in files:
            dirs.clear()  # chunk folders of an array, or not a node
            continue
        try:
            meta = json.loads(Path(dirpath, METADATA).read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and meta.get("node_type") == "array":
            found.append(Path(dirpath).relative_to(loc).as_posix())
            dirs.clear()
    return sorted(found)


def _read_with_zarr(location: str, path: str) -> dict[str, Any] | None:
    try:
        return dict(open_group(location, "r", path=path).attrs)
    except (OSError, ValueError, KeyError, TypeError):
        return None
