"""AEDAT 3.1: golden packets written byte by byte, writer round-trips, chunk boundaries, bad headers."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from readers_strategies import sorted_events

from eventpipe.errors import ConfigError, CorruptRecordingError, EventValidationError, FormatError
from eventpipe.events import make_events
from eventpipe.readers import read_events
from eventpipe.readers._stream import decode_file
from eventpipe.readers.aedat3 import inspect_aedat3, make_decoder, read_aedat3, read_header, write_aedat3

HEADER = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"


def packet(etype: int, events: list[tuple[int, int]], *, size: int = 8, overflow: int = 0, tsoff: int = 4) -> bytes:
    """One packet: ``events`` as (data, timestamp) pairs in ``size``-byte events, timestamp at ``tsoff``."""
    def event(d: int, ts: int) -> bytes:
        raw = bytearray(size)
        raw[0:4], raw[tsoff : tsoff + 4] = struct.pack("<I", d), struct.pack("<i", ts)
        return bytes(raw)

    body = b"".join(event(d, ts) for d, ts in events)
    n = len(events)
    return struct.pack("<hhiiiiii", etype, 1, size, tsoff, overflow, n, n, n) + body


def polarity(x: int, y: int, p: int, valid: int = 1) -> int:
    return (x << 17) | (y << 2) | (p << 1) | valid


def test_golden_packets(tmp_path: Path) -> None:
    data = HEADER
    data += packet(1, [(polarity(5, 7, 1), 10), (polarity(127, 0, 0, valid=0), 11), (polarity(0, 127, 0), 12)])
    data += packet(2, [(0xFFFFFFFF, 13)], size=16)  # a frame-like packet: skipped
    data += packet(1, [(polarity(1, 2, 1), 5)], overflow=3)
    data += packet(1, [(polarity(3, 4, 0), 20)], size=12)  # larger event size
    f = tmp_path / "g.aedat"
    f.write_bytes(data)
    ev = read_aedat3(f)
    expected = make_events(
        t=[10, 12, 20, (3 << 31) | 5], x=[5, 0, 3, 1], y=[7, 127, 4, 2], p=[1, 0, 0, 1]
    )
    np.testing.assert_array_equal(ev, expected)


def test_unaligned_packets_take_the_byte_path(tmp_path: Path) -> None:
    data = HEADER + packet(1, [(polarity(1, 2, 1), 3)], size=9)  # 9-byte events shift later packets off 4-byte
    data += packet(1, [(polarity(3, 4, 0), 5), (polarity(5, 6, 1), 7)])
    data += packet(1, [(polarity(7, 8, 1), 9)], size=16, tsoff=10)
    f = tmp_path / "odd.aedat"
    f.write_bytes(data)
    expected = make_events(t=[3, 5, 7, 9], x=[1, 3, 5, 7], y=[2, 4, 6, 8], p=[1, 0, 1, 1])
    np.testing.assert_array_equal(read_aedat3(f), expected)
    for chunk in (29, 31, 64):
        _, start = read_header(f)
        decoder = make_decoder()
        np.testing.assert_array_equal(decode_file(f, start, decoder, chunk_bytes=chunk), expected)


def test_out_of_order_packets_sorted_stably(tmp_path: Path) -> None:
    data = HEADER + packet(1, [(polarity(1, 1, 1), 50), (polarity(2, 2, 1), 60)])
    data += packet(1, [(polarity(3, 3, 0), 50), (polarity(4, 4, 0), 10)])
    f = tmp_path / "u.aedat"
    f.write_bytes(data)
    ev = read_aedat3(f)
    assert ev["t"].tolist() == [10, 50, 50, 60]
    assert ev["x"].tolist() == [4, 1, 3, 2]  # equal timestamps keep file order


def test_header_lines_and_magic(tmp_path: Path) -> None:
    f = write_aedat3(tmp_path / "h.aedat", make_events([1], [2], [3], [1]), start_time="2020-01-01 00:00:00")
    lines, start = read_header(f)
    assert lines[0] == "#!AER-DAT3.1" and lines[-1] == "#!END-HEADER"
    assert any(line.startswith("#Start-Time: 2020") for line in lines)
    assert f.read_bytes()[start - 14 : start] == b"#!END-HEADER\r\n"
    bad = tmp_path / "bad.aedat"
    bad.write_bytes(b"#!AER-DAT2.0\r\n")
    with pytest.raises(FormatError, match="AEDAT 3"):
        read_aedat3(bad)
    nohead = tmp_path / "nohead.aedat"
    nohead.write_bytes(b"#!AER-DAT3.1\r\n#Format: RAW\r\n")
    with pytest.raises(CorruptRecordingError, match="END-HEADER"):
        read_aedat3(nohead)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=sorted_events(t_max=(1 << 33), x_max=127, y_max=127), packet_size=st.integers(1, 64))
def test_round_trip(tmp_path: Path, ev: np.ndarray, packet_size: int) -> None:
    f = write_aedat3(tmp_path / "r.aedat", ev, packet_size=packet_size)
    np.testing.assert_array_equal(read_events(f), ev)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=sorted_events(t_max=(1 << 62) - 1, x_max=0x7FFF, y_max=0x7FFF, max_size=50))
def test_round_trip_full_ranges(tmp_path: Path, ev: np.ndarray) -> None:
    f = write_aedat3(tmp_path / "w.aedat", ev, width=0x8000, height=0x8000, packet_size=7)
    np.testing.assert_array_equal(read_aedat3(f), ev)


@pytest.mark.parametrize("chunk", [28, 29, 64, 100, 4096])
def test_chunk_boundaries_and_output_growth(tmp_path: Path, chunk: int) -> None:
    rng = np.random.default_rng(chunk)
    n = 5000
    ev = make_events(np.sort(rng.integers(0, 1 << 34, n)), rng.integers(0, 128, n), rng.integers(0, 128, n),
                     rng.integers(0, 2, n))
    f = write_aedat3(tmp_path / "c.aedat", ev, packet_size=333)
    _, start = read_header(f)
    decoder = make_decoder(bytes_per_event=1 << 40)
    np.testing.assert_array_equal(decode_file(f, start, decoder, chunk_bytes=chunk), ev)


def test_writer_validation(tmp_path: Path) -> None:
    with pytest.raises(EventValidationError, match="x"):
        write_aedat3(tmp_path / "a.aedat", make_events([0], [128], [0], [0]))
    with pytest.raises(EventValidationError, match="not sorted"):
        write_aedat3(tmp_path / "a.aedat", make_events([5, 1], [0, 0], [0, 0], [0, 0]))
    with pytest.raises(EventValidationError, match="t must lie"):
        write_aedat3(tmp_path / "a.aedat", make_events([-1], [0], [0], [0]))
    with pytest.raises(ConfigError, match="packet_size"):
        write_aedat3(tmp_path / "a.aedat", make_events([0], [0], [0], [0]), packet_size=0)
    with pytest.raises(ConfigError, match="width"):
        write_aedat3(tmp_path / "a.aedat", make_events([0], [0], [0], [0]), width=1 << 16)


def test_zero_events(tmp_path: Path) -> None:
    f = write_aedat3(tmp_path / "z.aedat", make_events([], [], [], []))
    assert len(read_events(f)) == 0


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda h: h[:4] + struct.pack("<i", 0) + h[8:], "invalid packet header"),  # eventSize 0
        (lambda h: h[:8] + struct.pack("<i", 6) + h[12:], "invalid packet header"),  # ts offset past event
        (lambda h: h[:12] + struct.pack("<i", -1) + h[16:], "invalid packet header"),  # negative overflow
        (lambda h: h[:16] + struct.pack("<i", 0) + h[20:], "invalid packet header"),  # capacity < number
        (lambda h: h[:4] + struct.pack("<ii", 4, 0) + h[12:], "event size 4"),  # polarity of 4 bytes
    ],
)
def test_bad_packet_header_names_offset(tmp_path: Path, mutate, match: str) -> None:  # noqa: ANN001
    head = packet(1, [(polarity(1, 1, 1), 1)])
    f = tmp_path / "b.aedat"
    f.write_bytes(HEADER + packet(1, [(polarity(0, 0, 0), 0)]) + mutate(head[:28]) + head[28:])
    with pytest.raises(CorruptRecordingError, match=match) as err:
        read_aedat3(f)
    assert err.value.offset == len(HEADER) + 36


def test_negative_timestamp_is_corrupt(tmp_path: Path) -> None:
    f = tmp_path / "n.aedat"
    f.write_bytes(HEADER + packet(1, [(polarity(1, 1, 1), -5)]))
    with pytest.raises(CorruptRecordingError, match="negative"):
        read_aedat3(f)


DAVIS_HEADER = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DAVIS240C\r\n#!END-HEADER\r\n"


def special(kind: int, valid: int = 1) -> int:
    return (kind << 1) | valid


def test_davis240_packets_counted_and_skipped(tmp_path: Path) -> None:
    """cAER's DAVIS240C output: polarity, frame (a 2x2 frame event), IMU6 and special packets."""
    frame = packet(2, [(1, 100)], size=36 + 2 * 2 * 2, tsoff=4)  # info, 4 timestamps, lengths, position, pixels
    imu6 = packet(3, [(1, 101), (1, 102), (0, 103)], size=36)  # the third is invalid
    imu6 = imu6[:24] + struct.pack("<i", 2) + imu6[28:]  # eventValid
    data = DAVIS_HEADER + packet(0, [(special(2), 5)])  # an external input rising edge
    data += packet(1, [(polarity(239, 179, 1), 10), (polarity(0, 0, 0), 11)]) + frame + imu6
    f = tmp_path / "davis.aedat"
    f.write_bytes(data)
    rec = inspect_aedat3(f)
    np.testing.assert_array_equal(rec.events, make_events([10, 11], [239, 0], [179, 0], [1, 0]))
    assert rec.camera == "DAVIS240C" and rec.sensor == (240, 180)
    assert rec.counts == {"dvs_events": 2, "aps_frames": 1, "imu_samples": 2, "special_events": 1,
                          "other_events": 0}


def test_timestamp_wrap_special_event_is_honoured(tmp_path: Path) -> None:
    """A TIMESTAMP_WRAP lifts later packets by one overflow; cAER's own overflow field agrees; a reset drops it."""
    wrap = packet(0, [(special(0), 0x7FFFFFFF)])
    lifted = DAVIS_HEADER + packet(1, [(polarity(1, 1, 1), 0x7FFFFFF0)]) + wrap
    caer = lifted + packet(1, [(polarity(2, 2, 1), 7)], overflow=1)  # cAER raises the overflow itself
    stale = lifted + packet(1, [(polarity(2, 2, 1), 7)])  # a writer that left it at 0
    for data in (caer, stale):
        f = tmp_path / "w.aedat"
        f.write_bytes(data)
        assert read_aedat3(f)["t"].tolist() == [0x7FFFFFF0, (1 << 31) | 7]
    f.write_bytes(stale + wrap + packet(0, [(special(1), 0)]) + packet(1, [(polarity(3, 3, 0), 4)]))
    rec = inspect_aedat3(f)
    assert rec.events["t"].tolist() == [4, 0x7FFFFFF0, (1 << 31) | 7]
    assert rec.counts["special_events"] == 3


def test_sensor_size_from_header(tmp_path: Path) -> None:
    f = tmp_path / "s.aedat"
    replayed = (b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: File,dvsSizeX=346,dvsSizeY=260,apsSizeX=346,"
                b"apsSizeY=260,dataSizeX=346,dataSizeY=260,visualizerSizeX=346,visualizerSizeY=260\r\n"
                b"#-Source 1: DAVIS346B\r\n#!END-HEADER\r\n")  # cAER's output of a replayed file
    f.write_bytes(replayed)
    assert (inspect_aedat3(f).camera, inspect_aedat3(f).sensor) == ("DAVIS346B", (346, 260))
    f.write_bytes(replayed.replace(b"dvsSizeX=346,dvsSizeY=260", b"dvsSizeX=100,dvsSizeY=50"))
    assert inspect_aedat3(f).sensor == (100, 50)  # the sizes win over the chip's name
    f.write_bytes(b"#!AER-DAT3.1\r\n#Source 1: DVXplorer Lite\r\n#!END-HEADER\r\n")
    assert inspect_aedat3(f).sensor == (320, 240)
    f.write_bytes(HEADER.replace(b"DVS128", b"Mystery"))
    assert inspect_aedat3(f).camera == "Mystery" and inspect_aedat3(f).sensor is None
    assert inspect_aedat3(write_aedat3(f, make_events([1], [2], [3], [1]))).sensor == (128, 128)


def test_bad_special_event_size(tmp_path: Path) -> None:
    f = tmp_path / "b.aedat"
    f.write_bytes(DAVIS_HEADER + packet(0, [(special(0), 1)], size=4, tsoff=0))
    with pytest.raises(CorruptRecordingError, match="event size 4") as err:
        read_aedat3(f)
    assert err.value.offset == len(DAVIS_HEADER)
