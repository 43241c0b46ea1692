"""HDF5 column files as DSEC writes them: events/{p,t,x,y}, t_offset, ms_to_idx, chunked reads, bad layouts."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from eventpipe.errors import CorruptRecordingError, FormatError, MissingDependencyError
from eventpipe.events import Events, make_events
from eventpipe.readers import hdf5, read_events

T_OFFSET = 47_000_000_000  # µs; DSEC's are wall-clock offsets of this order


def _events(n: int = 1000, seed: int = 0) -> Events:
    rng = np.random.default_rng(seed)
    return make_events(np.sort(rng.integers(0, 1 << 31, n)), rng.integers(0, 640, n), rng.integers(0, 480, n),
                       rng.integers(0, 2, n))


def write_dsec(path: Path, ev: Events, *, t_offset: object = T_OFFSET, p_dtype: str = "u1", **kwargs: object) -> Path:
    """An events.h5 with DSEC's dtypes: t uint32 µs after t_offset, x, y uint16, p uint8, ms_to_idx."""
    with h5py.File(path, "w") as f:
        t = ev["t"].astype(np.uint32)
        f.create_dataset("events/t", data=t, chunks=True, **kwargs)
        f.create_dataset("events/x", data=ev["x"], chunks=True, **kwargs)
        f.create_dataset("events/y", data=ev["y"], chunks=True, **kwargs)
        p = ev["p"].astype(bool) if p_dtype == "bool" else np.where(ev["p"], 1, -1 if p_dtype == "i1" else 0)
        f.create_dataset("events/p", data=p.astype(p_dtype), chunks=True, **kwargs)
        f["ms_to_idx"] = np.searchsorted(t, np.arange(0, int(t.max()) // 1000 + 1) * 1000).astype(np.uint64)
        if t_offset is not None:
            f["t_offset"] = t_offset
    return path


@pytest.mark.parametrize("p_dtype", ["u1", "i1", "bool"])
def test_dsec_layout(tmp_path: Path, p_dtype: str) -> None:
    ev = _events()
    got = read_events(write_dsec(tmp_path / "events.h5", ev, p_dtype=p_dtype, compression="gzip"))
    expected = ev.copy()
    expected["t"] += T_OFFSET
    np.testing.assert_array_equal(got, expected)


def test_t_offset_in_events_group_and_none(tmp_path: Path) -> None:
    ev = _events(50)
    path = write_dsec(tmp_path / "a.h5", ev, t_offset=None)
    np.testing.assert_array_equal(read_events(path), ev)
    with h5py.File(path, "a") as f:
        f["events/t_offset"] = np.int64(5)
    assert read_events(path)["t"].tolist() == (ev["t"] + 5).tolist()


def test_chunked_read_sorts_across_slices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ev = _events(1000)
    shuffled = ev[np.random.default_rng(1).permutation(len(ev))]
    path = write_dsec(tmp_path / "u.h5", shuffled, t_offset=np.int64(-3))
    whole = read_events(path)
    monkeypatch.setattr(hdf5, "CHUNK_EVENTS", 7)
    sliced = read_events(path)
    np.testing.assert_array_equal(sliced, whole)
    expected = shuffled[np.argsort(shuffled["t"], kind="stable")]
    expected["t"] -= 3
    np.testing.assert_array_equal(sliced, expected)


def test_different_lengths(tmp_path: Path) -> None:
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        for k, n in zip("txyp", (5, 5, 4, 5), strict=True):
            f[f"events/{k}"] = np.zeros(n, np.uint16)
    with pytest.raises(FormatError, match=r"different lengths \(/events/t 5, /events/x 5, /events/y 4, /events/p 5\)"):
        read_events(path)


def test_bad_t_offset(tmp_path: Path) -> None:
    ev = _events(10)
    with pytest.raises(FormatError, match=r"t_offset has dtype float64 and shape \(\); expected one integer"):
        read_events(write_dsec(tmp_path / "f.h5", ev, t_offset=1.5))
    with pytest.raises(FormatError, match=r"t_offset has dtype int64 and shape \(2,\)"):
        read_events(write_dsec(tmp_path / "v.h5", ev, t_offset=np.array([1, 2])))
    with pytest.raises(CorruptRecordingError, match="t \\+ t_offset .* is beyond the int64 µs range"):
        read_events(write_dsec(tmp_path / "o.h5", ev, t_offset=np.iinfo(np.int64).max - 10))
    with pytest.raises(CorruptRecordingError, match="negative"):
        read_events(write_dsec(tmp_path / "n.h5", ev, t_offset=-(1 << 40)))


def test_missing_compression_filter(tmp_path: Path) -> None:
    """A dataset compressed with a plugin filter h5py lacks (DSEC's Blosc without hdf5plugin)."""
    path = write_dsec(tmp_path / "lzf.h5", _events(100), compression="lzf")
    data = path.read_bytes()
    # the filter pipeline message of each dataset: filter id 32000, name length 8, flags, 3 values, "lzf"
    lzf, unknown = b"\x00\x7d\x08\x00\x01\x00\x03\x00lzf", b"\x7b\x7d\x08\x00\x01\x00\x03\x00lzf"
    assert data.count(lzf) == 4
    path.write_bytes(data.replace(lzf, unknown))  # id 32123: no filter has it
    with pytest.raises(MissingDependencyError, match=r"lzf.h5: its datasets are compressed with an HDF5 filter h5py "
                                                     r"lacks .*pip install hdf5plugin"):
        read_events(path)


def test_damaged_compressed_chunk_is_corruption(tmp_path: Path) -> None:
    """A compressed chunk whose bytes are damaged is a corrupt file, not a missing filter."""
    path = write_dsec(tmp_path / "gz.h5", _events(5000), compression="gzip")
    with h5py.File(path, "r") as f:
        chunk = f["events/x"].id.get_chunk_info(0)
    data = bytearray(path.read_bytes())
    for i in range(chunk.byte_offset + 2, chunk.byte_offset + chunk.size):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptRecordingError, match=r"gz.h5: corrupt: unreadable HDF5 data: .*filter returned failure"):
        read_events(path)
