"""Text event files: ETH lines, headers, delimiters, time units, chunk edges, and every kind of bad line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from readers_strategies import sorted_events

from eventpipe.errors import ConfigError, CorruptRecordingError, FormatError
from eventpipe.events import Events, make_events
from eventpipe.readers import detect_format, read_events
from eventpipe.readers._digest import digest_key, record_digests
from eventpipe.readers.aedat3 import write_aedat3
from eventpipe.readers.text import read_text, write_text
from eventpipe.store.markers import file_sha256

ETH = b"0.000000000 33 39 1\n0.000011000 158 145 1\n0.000050000 88 143 0\n0.003811000 0 179 0\n"
ETH_EVENTS = make_events([0, 11, 50, 3811], [33, 158, 88, 0], [39, 145, 143, 179], [1, 1, 0, 0])


def _file(tmp_path: Path, data: bytes, name: str = "events.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_eth_events_txt(tmp_path: Path) -> None:
    path = _file(tmp_path, ETH)
    assert detect_format(path) == "text"
    np.testing.assert_array_equal(read_events(path), ETH_EVENTS)
    assert read_text(path, time_unit="ms")["t"].tolist() == [0, 0, 0, 4]  # 3.811 µs rounds to 4


@pytest.mark.parametrize("data", [
    b"t,x,y,p\n0,33,39,1\n11,158,145,1\n50,88,143,0\n3811,0,179,0\n",
    b"timestamp x y polarity\n0 33 39 1\n11 158 145 1\n50 88 143 0\n3811 0 179 0\n",
    b"# recorded with a DAVIS346\n\nx;y;polarity;time [ms];note\n33;39;1;0.000;a b\n158;145;1;0.011;\n"
    b"88;143;-1;0.050;c\n0;179;-1;3.811;d\n",
    b"\xef\xbb\xbf\"P\"\t\"Y\"\t\"X\"\t\"TS\"\r\n1\t39\t33\t0\r\n1\t145\t158\t11\r\n# pause\r\n0\t143\t88\t50\r\n"
    b"0\t179\t0\t3811",
    b"  0.0e0 33 39 1\n1.1e-5 158   145 +1\n\n5e-5\t88 143 0\n 0.003811 0 179 -1   \n",
])
def test_headers_delimiters_units(tmp_path: Path, data: bytes) -> None:
    np.testing.assert_array_equal(read_events(_file(tmp_path, data, "e.csv")), ETH_EVENTS)


def test_time_unit_rule_and_overrides(tmp_path: Path) -> None:
    ints = _file(tmp_path, b"1500 1 2 1\n2500 1 2 0\n")
    assert read_text(ints)["t"].tolist() == [1500, 2500]  # digits only: µs
    assert read_text(ints, time_unit="ms")["t"].tolist() == [1_500_000, 2_500_000]
    assert read_text(ints, time_unit="ns")["t"].tolist() == [2, 2]  # 1.5 and 2.5 µs round half to even
    floats = _file(tmp_path, b"1.5 1 2 1\n2 1 2 0\n", "f.txt")
    assert read_text(floats)["t"].tolist() == [1_500_000, 2_000_000]  # the first time has a '.': seconds
    assert read_text(floats, time_unit="us")["t"].tolist() == [2, 2]
    late_fraction = _file(tmp_path, b"0 1 2 1\n0.5 1 2 0\n", "l.txt")
    assert read_text(late_fraction, time_unit="s")["t"].tolist() == [0, 500_000]
    assert read_text(late_fraction, time_unit="us")["t"].tolist() == [0, 0]  # an explicit unit is trusted
    named = _file(tmp_path, b"t_ns,x,y,p\n1500,1,2,1\n", "n.csv")
    assert read_text(named)["t"].tolist() == [2]
    assert read_text(named, time_unit="s")["t"].tolist() == [1_500_000_000]
    cols = _file(tmp_path, b"5 6 0.25 -1\n", "c.txt")
    np.testing.assert_array_equal(read_text(cols, columns=("x", "y", "t", "p")), make_events([250000], [5], [6], [0]))
    np.testing.assert_array_equal(
        read_text(_file(tmp_path, b"5 9 6 7 1\n", "d.txt"), columns=("x", None, "y", "t", "p"), time_unit="us"),
        make_events([7], [5], [6], [1]),
    )


def test_unsorted_lines_are_stable_sorted(tmp_path: Path) -> None:
    ev = read_text(_file(tmp_path, b"9 1 0 1\n2 2 0 0\n7 3 0 1\n2 4 0 0\n"))
    assert ev["t"].tolist() == [2, 2, 7, 9] and ev["x"].tolist() == [2, 4, 3, 1]


def test_empty_and_comment_only_files(tmp_path: Path) -> None:
    for data in (b"", b"\n\n", b"# nothing yet\n", b"t x y p\n", b"t,x,y,p"):
        assert len(read_events(_file(tmp_path, data))) == 0


@pytest.mark.parametrize(("data", "message"), [
    (b"0.1 1 2 1\n0.2 a 3 1\n", r"at byte 10: line 2: column 2 \(x\) is not a number: '0.2 a 3 1'"),
    (b"t,x,y,p\n1,2,3,1\n\n2,-5,3,1\n", r"at byte 17: line 4: column 2 \(x\) is negative; coordinates are pixels"),
    (b"1 2 3 1\n1 70000 3 1\n", r"line 2: column 2 \(x\) is not an integer in \[0, 65535\]"),
    (b"1 2 3.5 1\n", r"line 1: column 3 \(y\) is not an integer"),
    (b"1 2 3 2\n", r"line 1: column 4 \(p\) is not a polarity 0/1 or -1/1"),
    (b"1 2 3 -2\n", r"line 1: column 4 \(p\) is not a polarity"),
    (b"-1 2 3 1\n", r"line 1: column 1 \(t\) is negative or beyond the int64 µs range \(time unit us\)"),
    (b"1e30 2 3 1\n", r"line 1: column 1 \(t\) is negative or beyond"),
    (b"0 2 3 1\n1.0 2 3 1\n1.5 2 3 1\n", r"at byte 18: line 3: column 1 \(t\) has a fraction, but times are read as "
                                         r"µs because the first time has no decimal point; pass time_unit="),
    (b"1 2 3\n", r"line 1: 3 fields where 4 are expected: '1 2 3'"),
    (b"1,2,3,1,\n", r"line 1: more than the 4 expected fields"),
    (b"1 2 3 1 9\n", r"line 1: more than the 4 expected fields"),
    (b"1 2 3 1x\n", r"line 1: column 4 \(p\) is not a number"),
    (b"1 2x3 1\n", r"line 1: column 2 \(x\) is not a number"),
    (b"1e 2 3 1\n", r"line 1: column 1 \(t\) is not a number"),
    (b"x y t p\n1 2 . 1\n", r"at byte 8: line 2: column 3 \(t\) is not a number"),
    (b"1 2 3 1\n\x00\x01\x02garbage", r"at byte 8: line 2: column 1 \(t\) is not a number"),
])
def test_bad_lines(tmp_path: Path, data: bytes, message: str) -> None:
    path = _file(tmp_path, data)
    with pytest.raises(CorruptRecordingError, match=message) as info:
        read_events(path)
    text = str(info.value)
    assert text.startswith(f"{path}: corrupt at byte ") and "\n" not in text


def test_bad_header_and_options(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"lacks the columns \['p'\]; accepted names .*polarity"):
        read_text(_file(tmp_path, b"t,x,y,label\n1,2,3,4\n"))
    with pytest.raises(FormatError, match="names the t column twice"):
        read_text(_file(tmp_path, b"t,x,y,p,time\n"))
    path = _file(tmp_path, ETH)
    with pytest.raises(ConfigError, match=r"Unknown value 'sec' for argument time_unit. Valid values are \{None, 's'"):
        read_text(path, time_unit="sec")
    with pytest.raises(ConfigError, match="argument delimiter"):
        read_text(path, delimiter="|")
    with pytest.raises(ConfigError, match="columns to name each of"):
        read_text(path, columns=("t", "x", "x", "p"))


def test_line_longer_than_the_buffer(tmp_path: Path) -> None:
    path = _file(tmp_path, b"1 2 3 1\n" + b"7" * 500 + b" 1 1 1\n")
    with pytest.raises(CorruptRecordingError, match=r"at byte 8: line 2 is longer than 128 bytes"):
        read_text(path, chunk_bytes=128)
    assert len(read_text(_file(tmp_path, b"1 2 3 1" + b" " * 121, "last.txt"), chunk_bytes=128)) == 1  # no newline


def test_binary_magic_wins_over_txt_suffix(tmp_path: Path) -> None:
    assert detect_format(write_aedat3(tmp_path / "a.txt", make_events([1], [2], [3], [1]))) == "aedat3"
    with pytest.raises(FormatError, match=r"line 1 holds binary bytes \(0x00\); not a text event file"):
        read_text(_file(tmp_path, b"\x00\x01\x02garbage\n1 2 3 1\n"))


def test_chunk_edges_and_digest(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 5000
    ev = make_events(np.sort(rng.integers(0, 10**9, n)), rng.integers(0, 640, n), rng.integers(0, 480, n),
                     rng.integers(0, 2, n))
    path = write_text(tmp_path / "e.txt", ev)
    for chunk in (64, 1000, 1 << 20):
        np.testing.assert_array_equal(read_text(path, chunk_bytes=chunk), ev)
    data = path.read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 1
    path.write_bytes(data[:cut] + b"oops\n" + data[cut:])
    line = data[:cut].count(b"\n") + 1
    with pytest.raises(CorruptRecordingError, match=rf"at byte {cut}: line {line}: column 1 \(t\) is not a number"):
        read_text(path, chunk_bytes=64)
    path.write_bytes(data)
    with record_digests() as digests:
        read_events(path)
    assert digests[digest_key(path)].sha256 == file_sha256(path)


def _line(ev: np.void, unit: str, sep: str, minus: bool, rng: np.random.Generator) -> str:
    t = int(ev["t"])
    times = {"s": f"{t // 10**6}.{t % 10**6:06d}" + "0" * int(rng.integers(0, 4)),
             "ms": f"{t // 1000}.{t % 1000:03d}", "us": str(t), "ns": str(t * 1000)}
    p = int(ev["p"]) if not minus else (1 if ev["p"] else -1)
    pad = " " * int(rng.integers(0, 2)) if sep != " " else ""
    return (pad + sep + pad).join([times[unit], str(ev["x"]), str(ev["y"]), str(p)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ev=sorted_events(t_max=1 << 40, x_max=65535, y_max=65535, max_size=80),
       sep=st.sampled_from([" ", "\t", ",", ";"]), header=st.booleans(), unit=st.sampled_from(["s", "ms", "us", "ns"]),
       minus=st.booleans(), crlf=st.booleans(), final_newline=st.booleans(), chunk=st.sampled_from([64, 97, 1 << 16]),
       seed=st.integers(0, 2**32 - 1))
def test_roundtrip_property(tmp_path: Path, ev: Events, sep: str, header: bool, unit: str, minus: bool, crlf: bool,
                            final_newline: bool, chunk: int, seed: int) -> None:
    """Random events written with a random delimiter, header, unit and line end read back equal."""
    rng = np.random.default_rng(seed)
    lines = [_line(e, unit, sep, minus, rng) for e in ev]
    if header:
        lines.insert(0, sep.join([f"timestamp_{unit}", "x", "y", "polarity"]))
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + (end if final_newline and lines else "")
    path = _file(tmp_path, text.encode(), "r.csv")
    np.testing.assert_array_equal(read_text(path, time_unit=None if header else unit, chunk_bytes=chunk), ev)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=120) | st.text("0123456789.-+eE ,;\t\r\n#xyzp", max_size=120).map(str.encode),
       chunk=st.sampled_from([64, 1 << 16]))
def test_any_bytes_read_or_raise_one_error(tmp_path: Path, data: bytes, chunk: int) -> None:
    """Arbitrary bytes either read as sorted events with t >= 0 or raise one error; never a crash."""
    path = _file(tmp_path, data, "fuzz.txt")
    try:
        ev = read_text(path, chunk_bytes=chunk)
    except (CorruptRecordingError, FormatError) as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        return
    assert np.all(ev["t"][1:] >= ev["t"][:-1]) and np.all(ev["t"] >= 0) and np.all(ev["p"] <= 1)


def test_every_truncation_reads_or_raises(tmp_path: Path) -> None:
    """A file cut at any byte reads its complete lines, or names the cut line (it lacks fields)."""
    for cut in range(len(ETH) + 1):
        path = _file(tmp_path, ETH[:cut], "cut.txt")
        whole = ETH[:cut].count(b"\n")
        try:
            ev = read_text(path)
        except CorruptRecordingError as exc:
            assert f"line {whole + 1}: " in str(exc)
            continue
        np.testing.assert_array_equal(ev, ETH_EVENTS[: whole + (cut > 0 and not ETH[:cut].endswith(b"\n"))])
