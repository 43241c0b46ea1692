from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from store_helpers import write_array

from eventpipe.store.codecs import column_compressor


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
                              compressors=column_compressor(name, data.dtype), fill_value=0,
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


@pytest.mark.parametrize(("sizes", "chunk"), [
    ([4_000] * 9, 1 << 14),        # N-MNIST-like: four samples per chunk
    ([20_000, 14_000, 9_000], 1 << 16),
    ([500_000, 800_000], 1 << 18),  # Gesture-like: capped
    ([3], 1 << 14),
    ([], 1 << 14),
])
def test_event_chunk_is_about_four_samples(sizes: list[int], chunk: int) -> None:
    from eventpipe.store.codecs import event_chunk

    assert event_chunk(np.asarray(sizes)) == chunk
