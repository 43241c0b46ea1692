from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from store_helpers import write_array
from zarr.codecs import BloscCodec, ZstdCodec

from eventpipe.store.chunks import read_range
from eventpipe.store.codecs import column_compressor


@pytest.fixture(params=["local", "memory"])
def group(request: pytest.FixtureRequest, tmp_path: Path) -> zarr.Group:
    if request.param == "local":
        return zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    return zarr.open_group(f"memory://chunks-read-{tmp_path.name}", mode="w")


@pytest.mark.parametrize(("start", "stop"), [(0, 1000), (0, 1), (255, 257), (300, 1000), (999, 1000), (512, 768), (5, 5)])
def test_read_range_equals_zarr(group: zarr.Group, start: int, stop: int) -> None:
    rng = np.random.default_rng(1)
    columns = {"dt": rng.integers(0, 5000, 1000).astype(np.uint32), "x": rng.integers(0, 128, 1000).astype(np.uint8),
               "p": rng.integers(0, 2, 1000).astype(np.uint8)}
    location = str(group.store.root) if hasattr(group.store, "root") else f"memory://{group.store.path}"
    for n, c in columns.items():
        write_array(location, n, c, column_compressor(n, c.dtype, 256), 256)
    arrays = [group[n] for n in columns]
    got = read_range(arrays, start, stop)
    for (name, col), part in zip(columns.items(), got, strict=True):
        assert part.dtype == col.dtype
        np.testing.assert_array_equal(part, col[start:stop], err_msg=name)


def test_read_range_missing_chunk_reads_fill_value_and_other_codecs_fall_back(group: zarr.Group) -> None:
    data = np.arange(40, dtype=np.uint32)
    plain = group.create_array("plain", shape=(40,), dtype=np.uint32, chunks=(8,), compressors=ZstdCodec(level=1),
                               fill_value=0)
    plain[:] = data
    sparse = group.create_array("sparse", shape=(40,), dtype=np.uint32, chunks=(8,), fill_value=0,
                                compressors=BloscCodec(cname="zstd", clevel=1, shuffle="shuffle"))
    sparse[:] = np.where(data >= 16, data, 0)  # the first two chunks are all zeros: never stored
    np.testing.assert_array_equal(read_range([plain], 3, 37)[0], data[3:37])
    np.testing.assert_array_equal(read_range([sparse], 3, 37)[0], np.where(data >= 16, data, 0)[3:37])


@pytest.mark.parametrize(("dt_dtype", "coord_dtype"), [(np.uint32, np.uint8), (np.uint64, np.uint16)])
def test_decode_matches_a_numpy_reference(dt_dtype: type, coord_dtype: type) -> None:
    from eventpipe.store.events_layout import decode

    rng = np.random.default_rng(3)
    dt = rng.integers(0, 1000, 500).astype(dt_dtype)
    dt[0] = 0
    if dt_dtype is np.uint64:
        dt[7] = 2**40  # a gap only uint64 holds
    x, y = (rng.integers(0, 600, 500).astype(coord_dtype) for _ in range(2))
    p = rng.integers(0, 2, 500).astype(np.uint8)
    ev = decode(12_345, dt, x, y, p)
    np.testing.assert_array_equal(ev["t"], 12_345 + np.cumsum(dt.astype(np.int64)))
    for name, col in (("x", x), ("y", y), ("p", p)):
        np.testing.assert_array_equal(ev[name], col)
    assert len(decode(5, dt[:0], x[:0], y[:0], p[:0])) == 0
