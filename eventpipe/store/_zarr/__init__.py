"""The stores' fast path into Zarr v3: the one place that leans on Zarr's internal classes.

Zarr's public API hops threads and copies chunks on every call; the stores write and read whole
nodes and chunks instead, byte-identical to what Zarr would store, so any Zarr reader opens them.
The stores use only the names below; the modules inside are layered without cycles:
:mod:`.storage` (objects by key) <- :mod:`.nodes` (``zarr.json`` documents) <- :mod:`.chunks`
(encoded chunks); :mod:`.sparse_counts`, the frames store's codec (which Zarr also loads through its
``zarr.codecs`` entry point), is imported by :mod:`.chunks` only when frames are written or read.

- nodes: :func:`group_metadata`, :func:`write_nodes`, :func:`create_store`, :func:`read_group_attrs`,
  :func:`open_array`, :func:`child_arrays`, :func:`all_arrays`, :func:`store_of` (the Zarr store, for
  Zarr's own API);
- whole chunks, each ending with its CRC-32C: :func:`blosc_array`, :func:`read_range`,
  :func:`read_whole` (1-D Blosc arrays); :func:`counts_array`, :func:`read_counts` (arrays of counts
  through the sparse counts codec); :func:`floats_array` (float frames through ``zstd``, also read by
  :func:`read_counts`); :func:`check_chunks` (every chunk of an array there and sound) and :data:`DAMAGED`, what to do
  about a chunk that is not.

Importing this package does not import Zarr.
"""

from eventpipe.store._zarr.chunks import (
    DAMAGED,
    blosc_array,
    check_chunks,
    counts_array,
    floats_array,
    read_counts,
    read_range,
    read_whole,
)
from eventpipe.store._zarr.nodes import (
    all_arrays,
    child_arrays,
    create_store,
    group_metadata,
    open_array,
    read_group_attrs,
    write_nodes,
)
from eventpipe.store._zarr.storage import store_of


def compile_counts_codec() -> None:
    """Compile the frames codec's Numba kernels in this process for every counts dtype, so that a
    benchmark times them warm (Numba compiles on first call; this imports Zarr)."""
    import numpy as np

    from eventpipe.store._zarr.sparse_counts import encode

    for dtype in (np.uint8, np.uint16, np.uint32):
        encode(np.ones(4, dtype))


__all__ = [
    "DAMAGED",
    "all_arrays",
    "blosc_array",
    "check_chunks",
    "child_arrays",
    "compile_counts_codec",
    "counts_array",
    "create_store",
    "floats_array",
    "group_metadata",
    "open_array",
    "read_counts",
    "read_group_attrs",
    "read_range",
    "read_whole",
    "store_of",
    "write_nodes",
]
