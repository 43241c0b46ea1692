"""AEDAT 2.0 from every common jAER chip: files written word by word from jAER's DAVIS layout (DavisChip:
y bits 22-30, x bits 12-21, polarity bit 11, bit 10 external input, bit 31 APS, bits 31+11+10 IMU),
the chip taken from the AEChip header line or given, skipped words counted, compared with tonic."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from eventpipe.errors import CorruptRecordingError, FormatError, UnknownNameError
from eventpipe.events import make_events
from eventpipe.readers import read_events
from eventpipe.readers.aedat2 import inspect_aedat2, read_aedat2
from eventpipe.readers.jaer import get_chip

APS = 0x80000000
IMU = 0x80000C00
EXTERNAL_FALLING = 0x400 | 2


def dvs(x_raw: int, y_raw: int, p: int) -> int:
    return (y_raw << 22) | (x_raw << 12) | (p << 11)


def aps(x_raw: int, y_raw: int, adc: int, readout: int = 0) -> int:
    return APS | (y_raw << 22) | (x_raw << 12) | (readout << 10) | adc


def imu_sample(ts: int) -> list[tuple[int, int]]:
    """One IMU sample: 7 words with codes 0-6 in bits 28-30 and 16 data bits from bit 12."""
    return [(IMU | (code << 28) | ((1000 + code) << 12), ts) for code in range(7)]


def jaer_file(path: Path, chip_class: str | None, pairs: list[tuple[int, int]], *, header: bool = True) -> Path:
    """An AEDAT 2.0 file as jAER's AEFileOutputStream writes it: '#' lines with CRLF, then big-endian pairs."""
    lines = [b"#!AER-DAT2.0", b" This is a raw AE data file - do not edit",
             b" Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event",
             b" Timestamps tick: 1 us"]
    if chip_class is not None:
        lines.append(f" AEChip: {chip_class}".encode())
    lines.append(b"End Of ASCII Header")
    head = b"".join(b"#" + ln.lstrip(b"#") + b"\r\n" for ln in lines) if header else b""
    path.write_bytes(head + b"".join(struct.pack(">II", a, t) for a, t in pairs))
    return path


def test_davis240c_mixed_words(tmp_path: Path) -> None:
    pairs = [(aps(3, 4, 512), 5), (dvs(0, 0, 1), 10), *imu_sample(11), (dvs(239, 179, 0), 12),
             (aps(3, 4, 100, readout=1), 13), (EXTERNAL_FALLING, 14), (dvs(10, 20, 1), 15)]
    f = jaer_file(tmp_path / "davis.aedat", "eu.seebetter.ini.chips.davis.DAVIS240C", pairs)
    rec = inspect_aedat2(f)
    expected = make_events(t=[10, 12, 15], x=[239, 0, 229], y=[179, 0, 159], p=[1, 0, 1])
    np.testing.assert_array_equal(rec.events, expected)
    assert rec.sensor == (240, 180) and rec.camera == "DAVIS240 (AEChip eu.seebetter.ini.chips.davis.DAVIS240C)"
    assert rec.counts == {"dvs_events": 3, "aps_samples": 2, "imu_samples": 1, "special_events": 1}
    np.testing.assert_array_equal(read_events(f), expected)
    np.testing.assert_array_equal(read_events(f, format="aedat2"), expected)


@pytest.mark.parametrize("chip_class, size, flips", [
    ("eu.seebetter.ini.chips.davis.DAVIS240A", (240, 180), True),
    ("eu.seebetter.ini.chips.davis.DAVIS240B", (240, 180), True),
    ("eu.seebetter.ini.chips.davis.Davis346red", (346, 260), True),
    ("eu.seebetter.ini.chips.davis.Davis346B", (346, 260), True),
    ("eu.seebetter.ini.chips.davis.Davis346cBSI", (346, 260), True),
    ("eu.seebetter.ini.chips.davis.Davis128", (128, 128), True),
    ("ch.unizh.ini.jaer.chip.retina.DVXplorer", (640, 480), False),
])
def test_chip_from_header(tmp_path: Path, chip_class: str, size: tuple[int, int], flips: bool) -> None:
    rng = np.random.default_rng(len(chip_class))
    n = 200
    rx, ry, p = rng.integers(0, size[0], n), rng.integers(0, size[1], n), rng.integers(0, 2, n)
    rx[:2], ry[:2] = [0, size[0] - 1], [0, size[1] - 1]  # the corners
    t = np.arange(n) * 3
    pairs = [(dvs(int(a), int(b), int(c)), int(d)) for a, b, c, d in zip(rx, ry, p, t, strict=True)]
    rec = inspect_aedat2(jaer_file(tmp_path / "c.aedat", chip_class, pairs))
    x = size[0] - 1 - rx if flips else rx
    y = size[1] - 1 - ry if flips else ry
    np.testing.assert_array_equal(rec.events, make_events(t, x, y, p))
    assert rec.sensor == size and rec.counts["dvs_events"] == n


def test_dvs128_counts_and_camera(tmp_path: Path) -> None:
    pairs = [(0x8000 | 5, 1), ((10 << 8) | (3 << 1) | 1, 2)]  # an external (sync) event, then an OFF event
    rec = inspect_aedat2(jaer_file(tmp_path / "a.aedat", "ch.unizh.ini.jaer.chip.retina.DVS128", pairs))
    assert rec.counts == {"dvs_events": 1, "special_events": 1} and rec.sensor == (128, 128)
    assert rec.camera == "DVS128 (AEChip ch.unizh.ini.jaer.chip.retina.DVS128)"
    np.testing.assert_array_equal(rec.events, make_events([2], [117], [124], [0]))
    assert inspect_aedat2(jaer_file(tmp_path / "b.aedat", None, pairs)).camera == "DVS128 (no AEChip header line)"


def test_end_of_header_line_ends_the_header(tmp_path: Path) -> None:
    """A first DVS word whose top byte is '#' (raw y 140) is an event, not a header line."""
    word = dvs(7, 140, 1)
    assert word >> 24 == ord("#")
    f = jaer_file(tmp_path / "h.aedat", "eu.seebetter.ini.chips.davis.DAVIS240C", [(word, 1), (dvs(1, 1, 0), 2)])
    assert read_aedat2(f).tolist() == [(1, 232, 39, 1), (2, 238, 178, 0)]


def test_timestamp_wrap_and_reset(tmp_path: Path) -> None:
    chip = "eu.seebetter.ini.chips.davis.Davis346red"
    wrap = [(dvs(1, 1, 1), 0xFFFFFFF0), (aps(0, 0, 0), 0xFFFFFFFF), (aps(0, 0, 0), 0x5), (dvs(2, 2, 1), 0x10)]
    ev = read_aedat2(jaer_file(tmp_path / "w.aedat", chip, wrap))
    assert ev["t"].tolist() == [0xFFFFFFF0, (1 << 32) + 0x10]
    reset = [(dvs(1, 1, 1), 500), (dvs(2, 2, 1), 600), *imu_sample(601), (dvs(3, 3, 0), 3)]
    ev = read_aedat2(jaer_file(tmp_path / "r.aedat", chip, reset))
    assert ev["t"].tolist() == [3, 500, 600] and ev["x"].tolist() == [342, 344, 343]


def test_chip_option_for_headerless_files_and_overrides(tmp_path: Path) -> None:
    pairs = [(dvs(0, 0, 1), 1), (aps(1, 1, 1), 2), (dvs(345, 259, 0), 3)]
    raw = jaer_file(tmp_path / "raw.bin", None, pairs, header=False)
    with pytest.raises(FormatError, match="AEDAT 2.0"):
        read_aedat2(raw)
    expected = make_events([1, 3], [345, 0], [259, 0], [1, 0])
    np.testing.assert_array_equal(read_aedat2(raw, chip="davis346"), expected)
    rec = inspect_aedat2(raw, chip="Davis346red")
    assert rec.camera == "DAVIS346 (chip='Davis346red')" and rec.counts["aps_samples"] == 1
    labelled = jaer_file(tmp_path / "l.aedat", "ch.unizh.ini.jaer.chip.retina.DVS128", pairs)
    np.testing.assert_array_equal(read_aedat2(labelled, chip="davis346"), expected)
    with pytest.raises(UnknownNameError, match="davis240"):
        get_chip("davis999")


def test_unknown_chip_class_is_one_line(tmp_path: Path) -> None:
    f = jaer_file(tmp_path / "u.aedat", "org.example.MysteryCam", [(dvs(0, 0, 1), 1)])
    with pytest.raises(FormatError) as err:
        read_aedat2(f)
    msg = str(err.value)
    assert "\n" not in msg and "MysteryCam" in msg and "--chip" in msg and str(f) in msg


def test_dvs128_header_with_davis_word_is_corrupt(tmp_path: Path) -> None:
    f = jaer_file(tmp_path / "d.aedat", "ch.unizh.ini.jaer.chip.retina.DVS128", [(2, 1), (dvs(5, 5, 1), 2)])
    with pytest.raises(CorruptRecordingError, match="DVS128 layout") as err:
        read_aedat2(f)
    header_bytes = f.stat().st_size - 16
    assert err.value.offset == header_bytes + 8 and str(f) in str(err.value) and "\n" not in str(err.value)


def test_davis_address_outside_the_sensor_is_corrupt(tmp_path: Path) -> None:
    f = jaer_file(tmp_path / "o.aedat", "eu.seebetter.ini.chips.davis.DAVIS240C", [(dvs(1, 1, 1), 1), (dvs(300, 5, 1), 2)])
    with pytest.raises(CorruptRecordingError, match="240x180") as err:
        read_aedat2(f)
    assert err.value.offset == f.stat().st_size - 8


def test_real_davis346red_header(realdata: Path) -> None:
    """tonic's sample: a DAVIS346red header cut inside the preferences XML, no events."""
    rec = inspect_aedat2(realdata / "aedat2_header/sample_aedat_header.aedat")
    assert len(rec.events) == 0 and rec.sensor == (346, 260)
    assert rec.camera == "DAVIS346 (AEChip eu.seebetter.ini.chips.davis.Davis346red)"
    assert rec.counts == {"dvs_events": 0, "aps_samples": 0, "imu_samples": 0, "special_events": 0}


def tonic_io() -> ModuleType:
    """tonic's ``io`` module (NumPy only), loaded without the package, whose import pulls in torch."""
    spec = importlib.util.find_spec("tonic")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("tonic is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "io.py"
    io_spec = importlib.util.spec_from_file_location("tonic_io_only", path)
    assert io_spec is not None and io_spec.loader is not None
    module = importlib.util.module_from_spec(io_spec)
    io_spec.loader.exec_module(module)
    return module


def test_same_events_as_tonic_read_davis_346(tmp_path: Path) -> None:
    """tonic flips both axes like this reader (image rows, jAER's x); it decodes every word, so DVS only."""
    io = tonic_io()
    rng = np.random.default_rng(346)
    n = 500
    rx, ry, p = rng.integers(0, 346, n), rng.integers(0, 260, n), rng.integers(0, 2, n)
    t = np.sort(rng.integers(0, 1 << 31, n))
    pairs = [(dvs(int(a), int(b), int(c)), int(d)) for a, b, c, d in zip(rx, ry, p, t, strict=True)]
    f = jaer_file(tmp_path / "t.aedat", "eu.seebetter.ini.chips.davis.Davis346red", pairs)
    shape, _, theirs = io.read_davis_346(str(f))
    ours = read_aedat2(f)
    assert shape == (346, 260)
    for field in ("t", "x", "y", "p"):
        np.testing.assert_array_equal(ours[field], theirs[field].astype(np.int64))
