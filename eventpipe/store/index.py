"""The per-sample index arrays of both stores: offsets, labels, metadata, written when a store is finished.

Each split of a finished store has a group ``<split>/`` of small 1-D arrays (one entry per sample, or
per part or block) and a ``meta/`` group of per-sample metadata columns; the events store also keeps
its list of source files this way. Integers are written directly (:func:`~eventpipe.store._zarr.blosc_array`),
strings through Zarr with its default codecs and ``crc32c``; every chunk is stored and checksummed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from eventpipe.store import codecs
from eventpipe.store._zarr import blosc_array, group_metadata, open_array, read_whole, store_of, write_nodes
from eventpipe.store.location import StoreLike, join, remove


def write_index(location: StoreLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Write the arrays ``{path: data}`` of the store at ``location``: chunks of
    :data:`~eventpipe.store.codecs.INDEX_CHUNK` items, integers compressed with
    :func:`~eventpipe.store.codecs.index_compressor`, strings with zstd; every chunk ends with its CRC-32C."""
    import zarr
    from zarr.codecs import Crc32cCodec, ZstdCodec
    from zarr.core.array_spec import ArrayConfig

    nodes, writes = [], []
    for path, data in arrays.items():
        chunk = min(codecs.INDEX_CHUNK, max(len(data), 1))
        if data.dtype.kind in "iu":
            metadata, chunks = blosc_array(path, data, codecs.index_compressor(), chunk)
            nodes.append((path, metadata))
            writes += chunks
            continue
        arr = zarr.create_array(store_of(location), name=path, shape=data.shape, dtype=data.dtype, chunks=(chunk,),
                                compressors=[ZstdCodec(), Crc32cCodec()], zarr_format=3,
                                config=ArrayConfig(order="C", write_empty_chunks=True))
        if len(data):
            arr[:] = data
    write_nodes(location, nodes, writes)


def write_split_index(location: str, split: str, arrays: Mapping[str, np.ndarray],
                      attributes: Mapping[str, Any] | None = None) -> None:
    """Replace the index of ``split`` in the store at ``location``: its group (with ``attributes``),
    the group's empty ``meta`` group and the arrays ``{name: data}``, named within the split
    (``offsets``, ``meta/user``), written with :func:`write_index`."""
    remove(join(location, split))  # what an interrupted finalize left, if anything
    write_nodes(location, [(split, group_metadata(attributes)), (f"{split}/meta", group_metadata())])
    write_index(location, {f"{split}/{name}": data for name, data in arrays.items()})


def read_index(location: StoreLike, path: str, names: Iterable[str]) -> dict[str, np.ndarray]:
    """The whole arrays ``names`` of the group at ``path``, each in its stored dtype."""
    return {name: np.asarray(read_whole(open_array(location, f"{path}/{name}"))) for name in names}
