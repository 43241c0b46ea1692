from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_helpers import SENSOR, random_batch

from eventpipe.errors import EventValidationError
from eventpipe.events import SensorSize, make_events
from eventpipe.store.events.encoding import EncodedBatch, decode, encode
from eventpipe.store.events.layout import coord_dtype
from eventpipe.store.samples import SampleBatch


def encode_reference(t: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Slow NumPy oracle of the ``dt`` column: per-sample ``np.diff`` with 0 at each start."""
    out = np.zeros(len(t), dtype=np.int64)
    for s in range(len(offsets) - 1):
        a, b = int(offsets[s]), int(offsets[s + 1])
        if b > a:
            out[a + 1:b] = np.diff(t[a:b])
    return out


def test_golden_encoding() -> None:
    # two samples: t = 100, 103, 103 | 7, 9 ; deltas restart at each sample
    ev = make_events([100, 103, 103, 7, 9], [1, 2, 3, 4, 5], [0, 1, 2, 3, 4], [1, 0, 1, 1, 0])
    batch = SampleBatch(ev, np.array([0, 3, 5]), np.array([2, 0]))
    enc = encode(batch, SensorSize(8, 8, 2), "golden")
    assert enc.columns["dt"].tolist() == [0, 3, 0, 0, 2]
    assert enc.columns["dt"].dtype == np.uint32 and enc.columns["x"].dtype == np.uint8
    assert enc.t0.tolist() == [100, 7] and enc.t1.tolist() == [103, 9]
    back = decode(100, enc.columns["dt"][:3], enc.columns["x"][:3], enc.columns["y"][:3], enc.columns["p"][:3])
    np.testing.assert_array_equal(back, ev[:3])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=5), st.integers(0, 2**31))
def test_encode_matches_numpy_reference_and_roundtrips(sizes: list[int], seed: int) -> None:
    batch = random_batch(np.random.default_rng(seed), sizes)
    enc = encode(batch, SENSOR, "prop")
    np.testing.assert_array_equal(enc.columns["dt"], encode_reference(batch.events["t"], batch.offsets))
    for i in range(len(batch)):
        a, b = batch.offsets[i], batch.offsets[i + 1]
        cols = [enc.columns[c][a:b] for c in ("dt", "x", "y", "p")]
        np.testing.assert_array_equal(decode(int(enc.t0[i]), *cols), batch.events[a:b])


def test_unsorted_sample_is_rejected_with_its_index() -> None:
    ev = make_events([0, 5, 9, 4], [0] * 4, [0] * 4, [0] * 4)
    batch = SampleBatch(ev, np.array([0, 2, 4]), np.array([0, 1]))
    with pytest.raises(EventValidationError, match=r"file\.bin: sample 1: field t is not sorted: t\[1\] = 4 < 9"):
        encode(batch, SENSOR, "file.bin")


def test_unsorted_windows_and_other_dtypes() -> None:
    """Windows into one recording (``starts``) and tonic's field dtypes encode like back-to-back samples."""
    ev = make_events([3, 5, 5, 8, 20, 21], [1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1], [1, 0, 1, 0, 1, 1])
    windows = SampleBatch.from_segments(ev, np.array([3, 0]), np.array([6, 3]), np.array([1, 0]), {})
    compact = SampleBatch(np.concatenate([ev[3:], ev[:3]]), np.array([0, 3, 6]), np.array([1, 0]))
    tonic = np.zeros(6, dtype=[("x", "<i2"), ("y", "<i2"), ("p", "?"), ("t", "<i8")])
    for name in "txyp":
        tonic[name] = compact.events[name]
    expected = encode(compact, SENSOR, "c")
    assert expected.columns["dt"].tolist() == [0, 12, 1, 0, 2, 0]
    for other in (windows, SampleBatch(tonic, compact.offsets, compact.labels)):
        enc = encode(other, SENSOR, "o")
        for name in ("dt", "x", "y", "p"):
            np.testing.assert_array_equal(enc.columns[name], expected.columns[name])
        assert enc.t0.tolist() == [8, 3] and enc.t1.tolist() == [21, 5]
    bad = SampleBatch.from_segments(ev[::-1], np.array([0]), np.array([6]), np.array([0]), {})
    with pytest.raises(EventValidationError, match=r"r: sample 0: field t is not sorted: t\[1\] = 20 < 21"):
        encode(bad, SENSOR, "r")


@pytest.mark.parametrize(("field", "value"), [("x", 16), ("y", 12), ("p", 2)])
def test_out_of_sensor_is_rejected(field: str, value: int) -> None:
    cols = {"t": [0, 1], "x": [0, 0], "y": [0, 0], "p": [0, 0]}
    cols[field] = [0, value]
    batch = SampleBatch.single(make_events(**cols), 0)
    with pytest.raises(EventValidationError, match=rf"f: sample 0: field {field} out of sensor bounds: {field}\[1\] = {value}"):
        encode(batch, SENSOR, "f")


def test_huge_gap_widens_dt_and_wide_sensors_use_uint16() -> None:
    ev = make_events([0, 2**33], [0, 300], [0, 1], [0, 0])
    enc = encode(SampleBatch.single(ev, 0), SensorSize(640, 480, 2), "gap")
    assert enc.columns["dt"].dtype == np.uint64 and enc.columns["dt"].tolist() == [0, 2**33]
    assert enc.columns["x"].dtype == np.uint16 and coord_dtype(SensorSize(256, 1, 1)) == np.uint8


def test_empty_samples_and_concat() -> None:
    batch = SampleBatch(make_events([], [], [], []), np.zeros(3, np.int64), np.array([0, 1]))
    enc = encode(batch, SENSOR, "empty")
    assert enc.n_events == 0 and enc.t0.tolist() == [0, 0]
    both = EncodedBatch.concat([enc, encode(random_batch(np.random.default_rng(0), [3]), SENSOR, "x")])
    assert both.offsets.tolist() == [0, 0, 0, 3] and len(both) == 3
    empty = EncodedBatch.empty(SensorSize(700, 1, 1), ["speaker"])
    assert empty.columns["x"].dtype == np.uint16 and empty.meta == {"speaker": []}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=5), st.integers(0, 2**31))
def test_windows_encode_like_their_compact_copy(bounds: list[tuple[int, int]], seed: int) -> None:
    from store_helpers import random_sample

    ev = random_sample(np.random.default_rng(seed), 60)
    starts, stops = np.array([a for a, _ in bounds]), np.array([b for _, b in bounds])
    windows = SampleBatch.from_segments(ev, starts, stops, np.zeros(len(bounds), np.int64))
    a, b = encode(windows, SENSOR, "w"), encode(windows.compact(), SENSOR, "c")
    for name in ("dt", "x", "y", "p"):
        np.testing.assert_array_equal(a.columns[name], b.columns[name])
    np.testing.assert_array_equal(a.t0, b.t0)
    np.testing.assert_array_equal(a.t1, b.t1)


@pytest.mark.parametrize(("dt_dtype", "coord_dtype"), [(np.uint32, np.uint8), (np.uint64, np.uint16)])
def test_decode_matches_a_numpy_reference(dt_dtype: type, coord_dtype: type) -> None:
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
