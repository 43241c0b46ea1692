"""`eventpipe info FILE`: the camera, the record types and their counts, the --chip option, and one line
naming what was found and the known formats for a file no reader takes."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.errors import ConfigError, FormatError

runner = CliRunner()
DAVIS346 = b"#!AER-DAT2.0\r\n# AEChip: eu.seebetter.ini.chips.davis.Davis346red\r\n#End Of ASCII Header\r\n"


def words(pairs: list[tuple[int, int]]) -> bytes:
    """Big-endian jAER (address, timestamp) pairs: DVS y bits 22-30, x 12-21, p 11; bit 31 APS; IMU 0x80000C00."""
    return b"".join(struct.pack(">II", a, t) for a, t in pairs)


MIXED = words([(0x80000000 | (5 << 22) | (5 << 12), 1), ((3 << 22) | (4 << 12) | 0x800, 2),
               *[(0x80000C00 | (code << 28), 3) for code in range(7)], (0x402, 4), ((9 << 22) | (8 << 12), 5),
               (0x80000000 | 0x400, 6), (0x80000000, 7)])


def info(*args: str) -> str:
    result = runner.invoke(app, ["info", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_davis_recording_names_camera_and_counts(tmp_path: Path) -> None:
    f = tmp_path / "davis.aedat"
    f.write_bytes(DAVIS346 + MIXED)
    out = info(str(f))
    assert "camera: DAVIS346 (AEChip eu.seebetter.ini.chips.davis.Davis346red), sensor 346x260" in out
    assert "records: 2 DVS events, 3 APS samples, 1 IMU samples, 1 special events" in out
    summary = json.loads(info(str(f), "--json"))
    assert summary["sensor"] == [346, 260] and summary["events"] == 2
    assert summary["counts"] == {"dvs_events": 2, "aps_samples": 3, "imu_samples": 1, "special_events": 1}


def test_headerless_file_with_chip_option(tmp_path: Path) -> None:
    f = tmp_path / "stream.raw"
    f.write_bytes(MIXED)
    out = info(str(f), "--chip", "davis240")
    assert "camera: DAVIS240 (chip='davis240'), sensor 240x180" in out and "2 events" in out
    assert "x 231..235, y 170..176" in out  # 239 - raw x, 179 - raw y
    with pytest.raises(ConfigError, match="--chip"):
        runner.invoke(app, ["info", str(f), "--chip", "davis240", "--format", "atis"], catch_exceptions=False)


def test_davis_aedat3_recording(tmp_path: Path) -> None:
    head = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DAVIS240C\r\n#!END-HEADER\r\n"
    polarity = struct.pack("<hhiiiiii", 1, 1, 8, 4, 0, 1, 1, 1) + struct.pack("<Ii", (5 << 17) | (6 << 2) | 3, 9)
    imu6 = struct.pack("<hhiiiiii", 3, 1, 36, 4, 0, 1, 1, 1) + bytes(36)
    f = tmp_path / "davis3.aedat"
    f.write_bytes(head + polarity + imu6)
    out = info(str(f))
    assert "camera: DAVIS240C, sensor 240x180" in out
    assert "records: 1 DVS events, 0 APS frames, 1 IMU samples, 0 special events, 0 other events" in out


@pytest.mark.parametrize("name, data, found", [
    ("blob.xyz", b"\x00\x01\x02\x03garbage", "it starts with bytes 00 01 02 03 67 61 72 62 (b'\\x00\\x01\\x02\\x03garb')"),
    ("notes.xyz", b"one\r\ntwo\nthree\nfour\n", "its first lines are 'one', 'two', 'three'; known formats: aedat2,"),
    ("fake.aedat", b"#!AER-DAT9.9\r\n#x\r\n", "its first lines are '#!AER-DAT9.9', '#x'; known formats"),
    ("empty.xyz", b"", "it is empty"),
])
def test_unreadable_file_is_one_line(tmp_path: Path, name: str, data: bytes, found: str) -> None:
    f = tmp_path / name
    f.write_bytes(data)
    result = runner.invoke(app, ["info", str(f)])
    assert isinstance(result.exception, FormatError)
    msg = str(result.exception)
    assert "\n" not in msg and msg.startswith(f"{f}: ") and found in msg and "--format" in msg
    assert "hdf5" in msg and "npy" in msg
