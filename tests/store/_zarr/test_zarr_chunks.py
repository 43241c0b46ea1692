"""Chunks encoded directly: byte-identical to what Zarr's own pipeline stores, for Blosc columns and
for arrays of counts through the sparse counts codec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from store_helpers import random_frames, write_array
from zarr.codecs import Crc32cCodec

from eventpipe.store._zarr import counts_array, write_nodes
from eventpipe.store._zarr.sparse_counts import SparseCountsCodec
from eventpipe.store.codecs import column_compressor
from eventpipe.store.location import open_group


@pytest.mark.parametrize(("name", "dtype", "n", "chunk"), [
    ("dt", np.uint32, 1000, 256),   # partial last chunk (padded)
    ("x", np.uint8, 512, 256),      # exact chunks, no shuffle
    ("p", np.uint8, 5, 8),          # one partial chunk
    ("x", np.uint16, 300, 100),
])
def test_chunks_are_byte_identical_to_zarr_own(tmp_path: Path, name: str, dtype: type, n: int, chunk: int) -> None:
    data = np.random.default_rng(0).integers(0, 100, n).astype(dtype)
    zarr.open_group(str(tmp_path / "ours.zarr"), mode="w")
    write_array(str(tmp_path / "ours.zarr"), name, data, column_compressor(name, data.dtype), chunk)
    theirs = zarr.open_group(str(tmp_path / "theirs.zarr"), mode="w")
    arr = theirs.create_array(name, shape=data.shape, dtype=data.dtype, chunks=(chunk,),
                              compressors=[column_compressor(name, data.dtype), Crc32cCodec()], fill_value=0,
                              config={"write_empty_chunks": True})
    arr[:] = data
    files = sorted(p.relative_to(tmp_path / "theirs.zarr") for p in (tmp_path / "theirs.zarr").rglob("*") if p.is_file())
    assert [str(f) for f in files if "/c/" in str(f)]
    for rel in files:
        assert (tmp_path / "ours.zarr" / rel).read_bytes() == (tmp_path / "theirs.zarr" / rel).read_bytes(), rel
    np.testing.assert_array_equal(zarr.open_group(str(tmp_path / "ours.zarr"), mode="r")[name][:], data)


def test_empty_array_and_memory_store() -> None:
    zarr.open_group("memory://chunks-test", mode="w")
    write_array("memory://chunks-test", "e", np.zeros(0, np.uint8), column_compressor("p", np.uint8), 1)
    data = np.arange(10, dtype=np.uint32)
    write_array("memory://chunks-test", "d", data, column_compressor("dt", data.dtype), 4)
    again = zarr.open_group("memory://chunks-test", mode="r")
    assert again["e"].shape == (0,)
    np.testing.assert_array_equal(again["d"][3:9], data[3:9])


def test_counts_arrays_written_like_zarr_writes_them(tmp_path: Path) -> None:
    """Metadata document and chunks, byte for byte, as Zarr's ``create_array`` and ``arr[...] = data``."""
    rng = np.random.default_rng(3)
    for data in (np.stack([random_frames(rng, 3), np.zeros((3, 2, 3, 4), np.uint8), random_frames(rng, 3)]),
                 random_frames(rng, 7, high=300, dtype=np.uint16)):  # fixed T (one chunk each); variable T
        chunks = (1, *data.shape[1:]) if data.ndim == 5 else (3, *data.shape[1:])
        root = tmp_path / f"cmp{data.ndim}.zarr"
        theirs = open_group(str(root), "w").create_array(
            "zarr", shape=data.shape, dtype=data.dtype, chunks=chunks, fill_value=0, serializer=SparseCountsCodec(),
            compressors=[Crc32cCodec()], filters=None, config={"write_empty_chunks": True})
        theirs[...] = data
        metadata, writes = counts_array("ours", data, chunks)
        write_nodes(str(root), [("ours", metadata)], writes)
        np.testing.assert_array_equal(open_group(str(root), "r")["ours"][...], data)
        a = {p.relative_to(root / "ours"): p.read_bytes() for p in (root / "ours").rglob("*") if p.is_file()}
        b = {p.relative_to(root / "zarr"): p.read_bytes() for p in (root / "zarr").rglob("*") if p.is_file()}
        assert a == b and len(a) == 4  # zarr.json and every chunk, zeros too
