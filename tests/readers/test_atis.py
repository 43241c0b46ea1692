"""ATIS 40-bit: golden bytes with an overflow marker, tonic as an oracle, writer round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from readers_strategies import sorted_events

from eventpipe.errors import CorruptRecordingError, EventValidationError
from eventpipe.events import make_events
from eventpipe.readers import read_events
from eventpipe.readers.atis import OVERFLOW_US, encode_atis, read_atis, write_atis


def atis_bytes(x: int, y: int, p: int, ts: int) -> bytes:
    return bytes([x, y, (p << 7) | ((ts >> 16) & 0x7F), (ts >> 8) & 0xFF, ts & 0xFF])


def test_golden_with_overflow_marker(tmp_path: Path) -> None:
    data = atis_bytes(1, 2, 1, 100) + atis_bytes(0, 240, 0, 0) + atis_bytes(33, 33, 0, 5) + atis_bytes(7, 8, 1, 0x7FFFFF)
    f = tmp_path / "g.bin"
    f.write_bytes(data)
    expected = make_events(t=[100, OVERFLOW_US + 5, OVERFLOW_US + 0x7FFFFF], x=[1, 33, 7], y=[2, 33, 8], p=[1, 0, 1])
    np.testing.assert_array_equal(read_atis(f), expected)


def test_matches_tonic_on_random_bytes_with_markers(tmp_path: Path) -> None:
    tonic_io = pytest.importorskip("tonic.io")
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 256, (3000, 5), dtype=np.uint8)
    rows[rng.random(3000) < 0.01, 1] = 240  # sprinkle markers
    f = tmp_path / "r.bin"
    rows.tofile(f)
    ref = tonic_io.read_mnist_file(str(f), dtype=np.dtype([("x", int), ("y", int), ("t", int), ("p", int)]))
    order = np.argsort(ref["t"], kind="stable")
    ev = read_events(f)
    for k in "txyp":
        np.testing.assert_array_equal(ev[k], ref[k][order])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=sorted_events(t_max=1 << 26, x_max=255, y_max=239))
def test_round_trip(tmp_path: Path, ev: np.ndarray) -> None:
    f = write_atis(tmp_path / "r.bs2", ev)
    np.testing.assert_array_equal(read_events(f, format="atis"), ev)


def test_writer_inserts_fewest_markers() -> None:
    ev = make_events(t=[0, (1 << 23) - 1, 1 << 23, (1 << 23) + OVERFLOW_US], x=[0] * 4, y=[0] * 4, p=[0] * 4)
    rows = encode_atis(ev).reshape(-1, 5)
    assert (rows[:, 1] == 240).sum() == 2
    assert rows[:, 1].tolist() == [0, 0, 240, 0, 240, 0]


def test_writer_validation(tmp_path: Path) -> None:
    with pytest.raises(EventValidationError, match="y"):
        write_atis(tmp_path / "a.bin", make_events([0], [0], [240], [0]))
    with pytest.raises(EventValidationError, match="x"):
        write_atis(tmp_path / "a.bin", make_events([0], [256], [0], [0]))
    with pytest.raises(EventValidationError, match="t must be"):
        write_atis(tmp_path / "a.bin", make_events([-3], [0], [0], [0]))
    with pytest.raises(EventValidationError, match="sorted"):
        write_atis(tmp_path / "a.bin", make_events([3, 1], [0, 0], [0, 0], [0, 0]))


def test_empty_file_is_zero_events_and_partial_event_is_corrupt(tmp_path: Path) -> None:
    f = tmp_path / "e.bin"
    f.write_bytes(b"")
    assert len(read_events(f)) == 0
    f.write_bytes(atis_bytes(1, 1, 1, 1) + b"\x01\x02")
    with pytest.raises(CorruptRecordingError, match="40-bit event") as err:
        read_events(f)
    assert err.value.offset == 5
