"""AEDAT 2.0 (jAER DVS128): golden addresses against SpikingJelly's CIFAR10-DVS convention, round-trips."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from readers_strategies import sorted_events

from eventpipe.errors import CorruptRecordingError, EventValidationError, FormatError
from eventpipe.events import make_events
from eventpipe.readers import read_events
from eventpipe.readers.aedat2 import read_aedat2, read_header, write_aedat2

HEADER = b"#!AER-DAT2.0\r\n# This is a raw AE data file\r\n#End Of ASCII Header\r\n"


def records(pairs: list[tuple[int, int]]) -> bytes:
    return b"".join(struct.pack(">II", a, t) for a, t in pairs)


def test_golden_addresses(tmp_path: Path) -> None:
    # raw column (bits 1-7) 3, raw row (bits 8-14) 10, bit 0 = 1 (OFF in jAER)
    a1 = (10 << 8) | (3 << 1) | 1
    a2 = (0 << 8) | (127 << 1) | 0
    sync = 0x8000 | 5  # external event: skipped
    f = tmp_path / "g.aedat"
    f.write_bytes(HEADER + records([(a1, 7), (sync, 8), (a2, 9)]))
    expected = make_events(t=[7, 9], x=[127 - 10, 127], y=[127 - 3, 0], p=[0, 1])
    np.testing.assert_array_equal(read_aedat2(f), expected)


def test_same_bits_as_spikingjelly_reference(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    addr = rng.integers(0, 1 << 15, 500).astype(np.uint32)
    ts = np.sort(rng.integers(0, 1 << 31, 500)).astype(np.uint32)
    f = tmp_path / "r.aedat"
    f.write_bytes(HEADER + records(list(zip(addr.tolist(), ts.tolist(), strict=True))))
    ev = read_events(f)
    # SpikingJelly's CIFAR10-DVS loader, written out with NumPy
    np.testing.assert_array_equal(ev["x"], 127 - ((addr & 0x7F00) >> 8))
    np.testing.assert_array_equal(ev["y"], 127 - ((addr & 0xFE) >> 1))
    np.testing.assert_array_equal(ev["p"], 1 - (addr & 1))
    np.testing.assert_array_equal(ev["t"], ts)


def test_timestamp_wrap_is_unwrapped_and_resets_are_sorted(tmp_path: Path) -> None:
    f = tmp_path / "w.aedat"
    f.write_bytes(HEADER + records([(0, 0xFFFFFFF0), (2, 0x10), (4, 0x20)]))
    assert read_aedat2(f)["t"].tolist() == [0xFFFFFFF0, (1 << 32) + 0x10, (1 << 32) + 0x20]
    f.write_bytes(HEADER + records([(0, 500), (2, 600), (4, 3)]))  # a timestamp reset
    ev = read_aedat2(f)
    assert ev["t"].tolist() == [3, 500, 600]


def test_non_dvs128_address_rejected(tmp_path: Path) -> None:
    f = tmp_path / "d.aedat"
    f.write_bytes(HEADER + records([(2, 1), (1 << 22, 2)]))
    with pytest.raises(CorruptRecordingError, match="DVS128") as err:
        read_aedat2(f)
    assert err.value.offset == len(HEADER) + 8


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=sorted_events(t_max=(1 << 32) - 1, x_max=127, y_max=127))
def test_round_trip(tmp_path: Path, ev: np.ndarray) -> None:
    f = write_aedat2(tmp_path / "r.aedat", ev)
    np.testing.assert_array_equal(read_events(f), ev)


def test_header_only_and_errors(tmp_path: Path) -> None:
    f = write_aedat2(tmp_path / "z.aedat", make_events([], [], [], []))
    assert len(read_events(f)) == 0
    lines, start = read_header(f)
    assert lines[0] == "#!AER-DAT2.0" and start == f.stat().st_size
    with pytest.raises(EventValidationError):
        write_aedat2(tmp_path / "x.aedat", make_events([0], [128], [0], [0]))
    with pytest.raises(EventValidationError, match="2\\*\\*32"):
        write_aedat2(tmp_path / "x.aedat", make_events([1 << 32], [0], [0], [0]))
    g = tmp_path / "g.aedat"
    g.write_bytes(b"#!AER-DAT3.1\r\n")
    with pytest.raises(FormatError, match="AEDAT 2.0"):
        read_aedat2(g)
