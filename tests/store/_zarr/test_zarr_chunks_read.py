"""Chunks read directly: the same values as Zarr's own reads, and Zarr's pipeline for other codecs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from store_helpers import random_frames, write_array
from zarr.codecs import BloscCodec, ZstdCodec

from eventpipe.store._zarr import read_counts, read_range
from eventpipe.store.codecs import column_compressor
from eventpipe.store.location import open_group

FRAME = 2 * 3 * 4
"""Elements per frame of :func:`store_helpers.random_frames`."""


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


def test_counts_with_other_codecs_read_through_zarr(tmp_path: Path) -> None:
    """A block rewritten with Zarr's default codecs (by another tool, say) still reads per sample."""
    rng = np.random.default_rng(5)
    group = open_group(str(tmp_path / "other.zarr"), "w")
    fixed = np.stack([random_frames(rng, 3) for _ in range(4)])  # [N, T, P, H, W]
    variable = random_frames(rng, 9)  # [frames, P, H, W]
    for name, data, chunks in (("fixed", fixed, (1, 3, 2, 3, 4)), ("variable", variable, (4, 2, 3, 4))):
        arr = group.create_array(name, shape=data.shape, dtype=data.dtype, chunks=chunks, fill_value=0)
        arr[...] = data
        frames = data.reshape(-1, 2, 3, 4)
        for start, stop in ((0, 3), (6, 9), (3, 5), (4, 4)):
            out = np.full((stop - start, 2, 3, 4), -1.0, np.float32)
            read_counts(arr, start * FRAME, stop * FRAME, out)
            np.testing.assert_array_equal(out, frames[start:stop])
        out = np.empty((3, 2, 4, 3), np.float32).transpose(0, 1, 3, 2)  # not C-contiguous: through Zarr too
        read_counts(arr, 3 * FRAME, 6 * FRAME, out)
        np.testing.assert_array_equal(out, frames[3:6])
