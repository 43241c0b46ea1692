"""The frames store's chunk codec: lossless round trips, partial decodes, damaged chunks, Zarr interop."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st

from eventpipe.errors import StoreSchemaError
from eventpipe.store._zarr import sparse_counts as sc
from eventpipe.store.location import open_group


@st.composite
def sparse_counts(draw: st.DrawFn) -> np.ndarray:
    """Unsigned arrays with long zero runs, bursts of large counts and every dtype width."""
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.uint32]))
    size = draw(st.integers(0, 3000))
    seed = draw(st.integers(0, 2**32 - 1))
    density = draw(st.sampled_from([0.0, 0.001, 0.05, 0.5, 1.0]))
    rng = np.random.default_rng(seed)
    high = int(np.iinfo(dtype).max)
    values = np.where(rng.random(size) < 0.2, rng.integers(1, high, size, endpoint=True), rng.integers(1, 4, size))
    return np.where(rng.random(size) < density, values, 0).astype(dtype)


@settings(max_examples=150, deadline=None)
@given(sparse_counts(), st.data())
def test_round_trip_whole_and_partial(flat: np.ndarray, data: st.DataObject) -> None:
    encoded = sc.encode(flat)
    out = np.full(flat.shape, 7, dtype=flat.dtype)
    sc.decode_into(encoded, out, flat.size)
    np.testing.assert_array_equal(out, flat)
    lo = data.draw(st.integers(0, flat.size))
    hi = data.draw(st.integers(lo, flat.size))
    part = np.full(hi - lo, -1.0, dtype=np.float64)
    sc.decode_into(encoded, part, flat.size, lo)
    np.testing.assert_array_equal(part, flat[lo:hi].astype(np.float64))


def test_shapes_trailing_zeros_and_float_output() -> None:
    frames = np.zeros((3, 2, 4, 5), np.uint8)
    frames[0, 1, 2, 3] = 9
    frames[1, 0, 0, :] = [1, 2, 200, 255, 3]  # one run through several contexts
    encoded = sc.encode(frames)
    assert encoded == sc.encode(frames[:2])  # trailing zeros are not encoded: an edge chunk needs no padding
    out = np.empty(frames.shape, np.float32)
    sc.decode_into(encoded, out, frames.size)
    np.testing.assert_array_equal(out, frames)
    empty = sc.encode(np.zeros(10, np.uint16))
    got = np.ones(10, np.uint16)
    sc.decode_into(empty, got, 10)
    assert not got.any()


def test_long_zero_runs_cross_the_255_escape() -> None:
    flat = np.zeros(70_000, np.uint16)
    flat[[0, 254, 255, 510, 511, 69_999]] = [1, 2, 3, 4, 65535, 6]
    out = np.empty_like(flat)
    sc.decode_into(sc.encode(flat), out, flat.size)
    np.testing.assert_array_equal(out, flat)


def test_bad_input_to_encode_and_decode() -> None:
    with pytest.raises(TypeError, match="unsigned"):
        sc.encode(np.ones(4, np.float32))
    encoded = sc.encode(np.arange(10, dtype=np.uint8))
    with pytest.raises(ValueError, match="C-contiguous"):
        sc.decode_into(encoded, np.empty((10, 2), np.uint8)[:, 0], 10)
    with pytest.raises(ValueError, match="inside the chunk"):
        sc.decode_into(encoded, np.empty(5, np.uint8), 10, lo=6)


def test_damaged_chunks_are_store_errors() -> None:
    flat = (np.random.default_rng(0).random(5000) < 0.1).astype(np.uint8) * 3
    encoded = sc.encode(flat)
    out = np.empty_like(flat)
    with pytest.raises(StoreSchemaError, match="shorter than its header"):
        sc.decode_into(encoded[:10], out, flat.size)
    with pytest.raises(StoreSchemaError, match="not a version"):
        sc.decode_into(b"XXXX" + encoded[4:], out, flat.size)
    with pytest.raises(StoreSchemaError, match="header says"):
        sc.decode_into(encoded[:-3], out, flat.size)
    with pytest.raises(StoreSchemaError, match=f"does not describe {flat.size - 1000}"):
        sc.decode_into(encoded, out[:-1000], flat.size - 1000)
    rng = np.random.default_rng(1)
    for _ in range(200):  # flipped bytes: an error or some counts, never a crash or a write out of bounds
        damaged = bytearray(encoded)
        damaged[int(rng.integers(0, len(damaged)))] ^= int(rng.integers(1, 256))
        with contextlib.suppress(StoreSchemaError):
            sc.decode_into(bytes(damaged), out, flat.size)


def test_zarr_reads_and_writes_through_the_codec(tmp_path: Path) -> None:
    data = np.zeros((4, 3, 2, 8, 8), np.uint16)
    data[1, :, 1, 2:5, 3] = 300
    data[3, 2] = 1
    group = open_group(str(tmp_path / "s.zarr"), "w")
    arr = group.create_array("frames", shape=data.shape, dtype=data.dtype, chunks=(1, 3, 2, 8, 8), fill_value=0,
                             serializer=sc.SparseCountsCodec(), compressors=None)
    arr[...] = data
    np.testing.assert_array_equal(arr[1:4], data[1:4])
    assert sorted(p.name for p in (tmp_path / "s.zarr" / "frames" / "c").iterdir()) == ["1", "3"]
    with pytest.raises(TypeError, match="unsigned"):
        group.create_array("f", shape=(4,), dtype="float32", serializer=sc.SparseCountsCodec(), compressors=None)
    # another process that never imports eventpipe finds the codec through its zarr.codecs entry point
    code = "import sys, zarr, numpy as np; print(int(np.asarray(zarr.open_array(sys.argv[1])[...]).sum()))"
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s.zarr" / "frames")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == int(data.sum())
    assert zarr.open_array(str(tmp_path / "s.zarr" / "frames")).metadata.codecs[0] == sc.SparseCountsCodec()
