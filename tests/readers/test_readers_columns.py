"""Column formats: SHD/one-sample HDF5, ASL-DVS/ST-MNIST .mat, .npy/.npz; range checks before casting."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from eventpipe.errors import CorruptRecordingError, FormatError
from eventpipe.events import EVENT_DTYPE, make_events
from eventpipe.readers import read_events, read_hdf5_samples

TONIC_DTYPE = np.dtype([("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])


def write_shd(path: Path, times: list[np.ndarray], units: list[np.ndarray], labels: list[int] | None) -> Path:
    with h5py.File(path, "w") as f:
        t = f.create_dataset("spikes/times", (len(times),), dtype=h5py.vlen_dtype(np.float32))
        u = f.create_dataset("spikes/units", (len(units),), dtype=h5py.vlen_dtype(np.uint16))
        for i, (a, b) in enumerate(zip(times, units, strict=True)):
            t[i], u[i] = a, b
        if labels is not None:
            f["labels"] = np.asarray(labels, dtype=np.uint8)
            f["extra/speaker"] = np.arange(len(labels))
    return path


def test_shd_samples_vectorised(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lens = [6, 0, 9, 1]
    times = [rng.random(n).astype(np.float32) for n in lens]  # unsorted within samples
    units = [rng.integers(0, 700, n) for n in lens]
    s = read_hdf5_samples(write_shd(tmp_path / "shd.h5", times, units, [3, 1, 19, 0]))
    assert len(s) == 4 and s.offsets.tolist() == [0, 6, 6, 15, 16]
    assert s.labels.tolist() == [3, 1, 19, 0] and s.meta["speaker"].tolist() == [0, 1, 2, 3]
    for i, (tt, uu) in enumerate(zip(times, units, strict=True)):  # per-sample oracle
        order = np.argsort(tt, kind="stable")
        ev = s.sample(i)
        np.testing.assert_array_equal(ev["t"], np.rint(tt[order].astype(np.float64) * 1e6).astype(np.int64))
        np.testing.assert_array_equal(ev["x"], uu[order])
        assert not ev["y"].any() and not ev["p"].any()


def test_hdf5_single_sample(tmp_path: Path) -> None:
    one = write_shd(tmp_path / "one.h5", [np.array([0.5, 0.25], np.float32)], [np.array([7, 9])], None)
    assert read_events(one)["t"].tolist() == [250000, 500000]
    many = write_shd(tmp_path / "many.h5", [np.zeros(1, np.float32)] * 2, [np.zeros(1, int)] * 2, [0, 1])
    with pytest.raises(FormatError, match="read_hdf5_samples"):
        read_events(many)
    cols = tmp_path / "cols.hdf5"
    with h5py.File(cols, "w") as f:
        for k, v in zip("txyp", ([5, 3], [1, 2], [3, 4], [1, -1]), strict=True):
            f[f"events/{k}"] = np.asarray(v)
    np.testing.assert_array_equal(read_events(cols), make_events([3, 5], [2, 1], [4, 3], [0, 1]))
    with h5py.File(cols, "w") as f:
        f["q"] = np.zeros(3)
    with pytest.raises(FormatError, match="no t, x, y, p datasets"):
        read_events(cols)
    with pytest.raises(FormatError, match="SHD layout"):
        read_hdf5_samples(cols)


def test_npy_npz_layouts(tmp_path: Path) -> None:
    ev = make_events([3, 1, 2], [1, 2, 3], [4, 5, 6], [1, 0, 1])
    expected = ev[np.argsort(ev["t"], kind="stable")]
    np.save(tmp_path / "a.npy", ev)
    np.testing.assert_array_equal(read_events(tmp_path / "a.npy"), expected)
    tonic = np.zeros(3, TONIC_DTYPE)
    for k in "txyp":
        tonic[k] = ev[k]
    np.save(tmp_path / "b.npy", tonic)
    np.testing.assert_array_equal(read_events(tmp_path / "b.npy"), expected)
    np.savez(tmp_path / "c.npz", t=ev["t"], x=ev["x"], y=ev["y"], p=ev["p"])  # SpikingJelly's layout
    np.testing.assert_array_equal(read_events(tmp_path / "c.npz"), expected)
    np.savez_compressed(tmp_path / "d.npz", events=ev)
    np.testing.assert_array_equal(read_events(tmp_path / "d.npz"), expected)
    np.save(tmp_path / "e.npy", np.zeros((3, 4)))
    with pytest.raises(FormatError, match="fields t, x, y, p"):
        read_events(tmp_path / "e.npy")
    np.save(tmp_path / "f.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(FormatError, match="Python objects"):
        read_events(tmp_path / "f.npy")
    np.savez(tmp_path / "g.npz", a=np.zeros(2), b=np.zeros(2))
    with pytest.raises(FormatError, match="keys"):
        read_events(tmp_path / "g.npz")


@pytest.mark.parametrize(
    "field, values, match",
    [("x", [-1, 0], r"x\[0\] = -1"), ("y", [0, 70000], r"y\[1\] = 70000"), ("p", [0, 2], r"p\[1\] = 2"),
     ("t", [0.5, 1.0], "must hold integers")],
)
def test_values_checked_before_cast(tmp_path: Path, field: str, values: list, match: str) -> None:
    cols = {"t": [0, 1], "x": [0, 0], "y": [0, 0], "p": [0, 1]}
    cols[field] = values
    np.savez(tmp_path / "v.npz", **{k: np.asarray(v) for k, v in cols.items()})
    with pytest.raises(FormatError, match=match):
        read_events(tmp_path / "v.npz")


def test_asl_dvs_mat(tmp_path: Path) -> None:
    f = tmp_path / "a_0001.mat"
    scipy.io.savemat(f, {"ts": np.array([[30], [10]]), "x": np.array([[5], [6]]), "y": np.array([[7], [8]]),
                         "pol": np.array([[1], [0]])})
    np.testing.assert_array_equal(read_events(f), make_events([10, 30], [6, 5], [8, 7], [0, 1]))
    scipy.io.savemat(f, {"other": np.zeros(2)})
    with pytest.raises(FormatError, match="ASL-DVS"):
        read_events(f)


def test_stmnist_layout_golden(tmp_path: Path) -> None:
    train = np.zeros((101, 3))
    train[12, 0], train[99, 1], train[0, 2] = 1, -1, 1
    train[100] = [0.1, 0.2, 0.2000004]
    f = tmp_path / "s.mat"
    scipy.io.savemat(f, {"spiketrain": train})
    np.testing.assert_array_equal(read_events(f), make_events([100000, 200000, 200000], [2, 9, 0], [1, 9, 0],
                                                              [1, 0, 1]))


def test_truncated_column_files(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.zeros(100, EVENT_DTYPE))
    data = (tmp_path / "a.npy").read_bytes()
    (tmp_path / "a.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptRecordingError):
        read_events(tmp_path / "a.npy")
    write_shd(tmp_path / "s.h5", [np.zeros(5, np.float32)], [np.zeros(5, int)], [1])
    data = (tmp_path / "s.h5").read_bytes()
    (tmp_path / "s.h5").write_bytes(data[: len(data) // 3])
    with pytest.raises(CorruptRecordingError):
        read_hdf5_samples(tmp_path / "s.h5")


@pytest.mark.parametrize("bad, shown", [(1e30, "1e+30"), (np.nan, "nan"), (-1.0, "-1"), (np.inf, "inf")])
def test_shd_bad_spike_time(tmp_path: Path, bad: float, shown: str) -> None:
    """A time a cast would wrap (1e30 s became t = -2**63 with only a NumPy warning) is an error naming the sample."""
    times = [np.array([0.1, 0.2], np.float32), np.array([0.3, bad, 0.1], np.float32)]
    f = write_shd(tmp_path / "shd.h5", times, [np.array([1, 2]), np.array([1, 2, 3])], [0, 1])
    message = "^" + re.escape(f"{f}: corrupt: spikes/times of sample 1, spike 1 = {shown} s; times must be finite")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CorruptRecordingError, match=message):
            read_hdf5_samples(f)
        one = write_shd(tmp_path / "one.h5", times[1:], [np.array([1, 2, 3])], None)
        with pytest.raises(CorruptRecordingError, match="sample 0, spike 1"):
            read_events(one)


def test_stmnist_bad_time(tmp_path: Path) -> None:
    train = np.zeros((101, 2))
    train[0] = 1
    train[100] = [0.1, -np.inf]
    scipy.io.savemat(tmp_path / "s.mat", {"spiketrain": train})
    with pytest.raises(CorruptRecordingError, match=r"spiketrain\[100, 1\] \(time\) = -inf s"):
        read_events(tmp_path / "s.mat")


@pytest.mark.parametrize(
    "t, match",
    [([5, -3], r"field t\[1\] = -3 is outside \[0, "), ([0.0, np.inf], r"t\[1\] = inf"),
     ([0.0, np.nan], r"t\[1\] = nan"), ([2.0**63, 0.0], r"field t\[0\] = 9.223372036854776e\+18 is outside")],
)
def test_bad_t_column(tmp_path: Path, t: list[float], match: str) -> None:
    """Negative, non-finite and beyond-int64 times in .npy, .npz and HDF5 columns are errors, never wrapped."""
    cols = {"t": np.asarray(t), "x": np.zeros(2, np.uint16), "y": np.zeros(2, np.uint16), "p": np.ones(2, np.uint8)}
    arr = np.zeros(2, [("t", cols["t"].dtype), ("x", "<u2"), ("y", "<u2"), ("p", "u1")])
    for k, v in cols.items():
        arr[k] = v
    np.save(tmp_path / "a.npy", arr)
    np.savez(tmp_path / "b.npz", **cols)
    with h5py.File(tmp_path / "c.h5", "w") as f:
        for k, v in cols.items():
            f[k] = v
    for name in ("a.npy", "b.npz", "c.h5"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(FormatError, match=match):
                read_events(tmp_path / name)


def test_unsorted_npy_comes_out_sorted(tmp_path: Path) -> None:
    ev = make_events([9, 2, 7, 2], [1, 2, 3, 4], [0, 0, 0, 0], [1, 0, 1, 0])
    np.save(tmp_path / "u.npy", ev)
    assert read_events(tmp_path / "u.npy")["t"].tolist() == [2, 2, 7, 9]
    assert read_events(tmp_path / "u.npy")["x"].tolist() == [2, 4, 3, 1]  # stable: equal times keep file order
