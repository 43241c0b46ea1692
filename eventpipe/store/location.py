"""Where a store lives: a local folder or any fsspec URL (``memory://``, ``s3://``, ...).

Every store module opens its Zarr v3 groups through :func:`open_group`, so a store works the same on
a local disk and on an object store. Local paths are made absolute; ``file://`` URLs become local
paths, so the same store never has two spellings.

>>> normalize("memory://stores/demo/")
'memory://stores/demo'
"""

from __future__ import annotations

import os
import posixpath
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from eventpipe.errors import DataNotFoundError, StoreSchemaError

if TYPE_CHECKING:
    import zarr
    from fsspec import AbstractFileSystem

StoreLike = str | os.PathLike[str]
"""A local folder (``str`` or ``Path``) or an fsspec URL."""

Mode = Literal["r", "r+", "a", "w"]


def normalize(location: StoreLike) -> str:
    """The canonical spelling of ``location``: an absolute local path, or a URL without a trailing ``/``."""
    text = os.fspath(location)
    if "://" in text:
        protocol, rest = text.split("://", 1)
        if protocol == "file":
            return str(Path(rest).expanduser().absolute())
        return f"{protocol}://{rest.rstrip('/')}"
    return str(Path(text).expanduser().absolute())


def is_local(location: StoreLike) -> bool:
    """True for a folder on this machine's file system, False for any other fsspec URL."""
    return "://" not in normalize(location)


def join(location: StoreLike, *names: str) -> str:
    """``location`` extended by path components, in the spelling of its kind (``/`` for URLs)."""
    base = normalize(location)
    if is_local(base):
        return str(Path(base, *names))
    return "/".join([base, *names])


def relative_to(location: StoreLike, base: StoreLike) -> str:
    """``location`` relative to ``base`` when both are local or on one file system (URL scheme), so
    a copy of both reads the same; else ``location`` in full.

    >>> relative_to("/data/demo/events.zarr", "/data/demo/frames/f.zarr")
    '../../events.zarr'
    """
    loc, start = normalize(location), normalize(base)
    if is_local(loc) and is_local(start):
        return os.path.relpath(loc, start)
    scheme, rest = loc.split("://", 1) if "://" in loc else ("", loc)
    if start.startswith(f"{scheme}://"):
        return posixpath.relpath(rest, start.split("://", 1)[1])
    return loc


def filesystem(location: StoreLike) -> tuple[AbstractFileSystem, str]:
    """The fsspec file system of ``location`` and the path inside it."""
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(normalize(location))
    return fs, path


def open_group(location: StoreLike, mode: Mode = "r", path: str = "") -> zarr.Group:
    """Open the Zarr v3 group at ``location`` (and ``path`` inside it).

    ``mode`` is Zarr's: ``"r"`` read only, ``"r+"`` existing for writing, ``"a"`` create if missing,
    ``"w"`` create and erase what was there. Raises :class:`DataNotFoundError` when ``"r"`` or ``"r+"``
    finds no group.
    """
    import zarr

    loc = normalize(location)
    try:
        return zarr.open_group(store=loc, mode=mode, path=path or None, zarr_format=3)
    except (FileNotFoundError, KeyError) as exc:
        where = f"{loc}/{path}" if path else loc
        raise DataNotFoundError(f"No Zarr group found at {where}.") from exc


def exists(location: StoreLike, key: str = "zarr.json") -> bool:
    """True when the object ``key`` exists inside ``location`` (by default: a Zarr node is there)."""
    loc = normalize(location)
    if is_local(loc):
        return Path(loc, key).exists()
    fs, path = filesystem(loc)
    return bool(fs.exists(f"{path}/{key}"))


def remove(location: StoreLike) -> None:
    """Delete ``location`` and everything under it; a missing location is not an error."""
    loc = normalize(location)
    if is_local(loc):
        shutil.rmtree(loc, ignore_errors=True)
        return
    fs, path = filesystem(loc)
    if fs.exists(path):
        fs.rm(path, recursive=True)


def remove_partial_writes(location: StoreLike) -> None:
    """Delete the temporary ``*.partial`` files left in a local store by a process killed in the
    middle of writing a file (Zarr's local store and :func:`~eventpipe.store._zarr.write_nodes`
    write a temporary file, then rename it). Other stores write each object whole."""
    loc = normalize(location)
    if not is_local(loc):
        return
    for dirpath, _dirs, files in os.walk(loc):
        for name in files:
            if name.endswith(".partial"):
                os.remove(os.path.join(dirpath, name))


def size_on_disk(location: StoreLike) -> int:
    """Total bytes of every object stored under ``location`` (0 when it does not exist)."""
    loc = normalize(location)
    if is_local(loc):
        total = 0
        for dirpath, _dirs, files in os.walk(loc):
            total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
        return total
    fs, path = filesystem(loc)
    if not fs.exists(path):
        return 0
    return int(fs.du(path, total=True))


def array_node(group: zarr.Group, name: str) -> zarr.Array:
    """The array ``name`` of ``group``; :class:`StoreSchemaError` when it is a group (KeyError when missing)."""
    import zarr

    node = group[name]
    if not isinstance(node, zarr.Array):
        raise StoreSchemaError(f"{group.store_path}/{name} is a group where an array was expected.")
    return node


def group_node(group: zarr.Group, name: str) -> zarr.Group:
    """The sub-group ``name`` of ``group``; :class:`StoreSchemaError` when it is an array."""
    import zarr

    node = group[name]
    if not isinstance(node, zarr.Group):
        raise StoreSchemaError(f"{group.store_path}/{name} is an array where a group was expected.")
    return node

