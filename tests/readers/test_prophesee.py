"""Prophesee DAT, EVT 2.0 and EVT 3.0: golden words, spec timestamps, vector words, a slow reference decoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventpipe.errors import CorruptRecordingError, FormatError
from eventpipe.events import EVENT_DTYPE, make_events
from eventpipe.readers import detect_format, read_events
from eventpipe.readers.dat import read_dat
from eventpipe.readers.evt2 import read_evt2
from eventpipe.readers.evt3 import read_evt3

EVT3_HEADER = b"% date 2024-01-01\n% evt 3.0\n% end\n"
EVT2_HEADER = b"% evt 2.0\n"


def w3(kind: int, value: int) -> int:
    return (kind << 12) | value


def evt3_file(tmp_path: Path, words: list[int], name: str = "e.raw") -> Path:
    f = tmp_path / name
    f.write_bytes(EVT3_HEADER + np.asarray(words, dtype="<u2").tobytes())
    return f


def test_evt3_golden_vectors(tmp_path: Path) -> None:
    words = [
        w3(0x8, 1), w3(0x6, 5), w3(0x0, 10),
        w3(0x3, (1 << 11) | 100),  # VECT_BASE_X x=100, ON
        w3(0x4, 0b100000000101),  # VECT_12: x = 100, 102, 111
        w3(0x5, 0b10000001),  # VECT_8: x = 112, 119
        w3(0x2, 5),  # ADDR_X x=5, OFF
        w3(0xA, 0x123), w3(0xE, 0), w3(0xF, 0), w3(0x7, 0),  # trigger / others / continued: skipped
    ]
    ev = read_evt3(evt3_file(tmp_path, words))
    t = (1 << 12) | 5
    expected = make_events(t=[t] * 6, x=[100, 102, 111, 112, 119, 5], y=[10] * 6, p=[1, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(ev, expected)


def test_evt3_time_low_wrap_adds_nothing(tmp_path: Path) -> None:
    words = [w3(0x8, 0), w3(0x6, 4090), w3(0x0, 1), w3(0x2, 1), w3(0x8, 1), w3(0x6, 3), w3(0x2, 2)]
    assert read_evt3(evt3_file(tmp_path, words))["t"].tolist() == [4090, 4099]


def test_evt3_time_high_wrap(tmp_path: Path) -> None:
    words = [w3(0x8, 4095), w3(0x6, 4095), w3(0x2, 1), w3(0x8, 0), w3(0x6, 0), w3(0x2, 2)]
    assert read_evt3(evt3_file(tmp_path, words))["t"].tolist() == [(1 << 24) - 1, 1 << 24]


def test_evt3_events_before_first_time_high_dropped(tmp_path: Path) -> None:
    words = [w3(0x0, 3), w3(0x2, 1), w3(0x3, 0), w3(0x4, 0xFFF), w3(0x8, 2), w3(0x6, 0), w3(0x2, 9)]
    ev = read_evt3(evt3_file(tmp_path, words))
    assert ev["x"].tolist() == [9] and ev["t"].tolist() == [2 << 12]


def test_evt3_reserved_word_is_corrupt(tmp_path: Path) -> None:
    f = evt3_file(tmp_path, [w3(0x8, 0), w3(0x2, 1), w3(0x9, 0)])
    with pytest.raises(CorruptRecordingError, match="reserved EVT 3.0 word type 0x9") as err:
        read_evt3(f)
    assert err.value.offset == len(EVT3_HEADER) + 4


def reference_evt3(words: np.ndarray) -> np.ndarray:
    """A slow, literal reading of the EVT 3.0 spec (one Python step per word)."""
    s = {"th": None, "tl": 0, "y": 0, "bx": 0, "vp": 0, "loops": 0}
    out = []
    for w in words.tolist():
        kind, v = w >> 12, w & 0xFFF
        if kind == 0x8:
            if s["th"] is not None and v < s["th"] - 2048:
                s["loops"] += 1
            s["th"] = v
        elif kind == 0x6:
            s["tl"] = v
        elif kind == 0x0:
            s["y"] = v & 0x7FF
        elif kind == 0x3:
            s["bx"], s["vp"] = v & 0x7FF, v >> 11
        elif kind in (0x2, 0x4, 0x5):
            t = None if s["th"] is None else (s["loops"] << 24) + (s["th"] << 12) + s["tl"]
            if kind == 0x2:
                hits = [(v & 0x7FF, v >> 11)]
            else:
                n = 12 if kind == 0x4 else 8
                hits = [(s["bx"] + k, s["vp"]) for k in range(n) if v >> k & 1]
                s["bx"] += n
            if t is not None:
                out += [(t, x, s["y"], p) for x, p in hits]
    ev = np.array(out, dtype=EVENT_DTYPE) if out else np.zeros(0, EVENT_DTYPE)
    return ev[np.argsort(ev["t"], kind="stable")]


evt3_words = st.lists(
    st.one_of(
        st.tuples(st.sampled_from([0x0, 0x2, 0x3, 0x6, 0x8]), st.integers(0, 0xFFF)),
        st.tuples(st.just(0x4), st.integers(0, 0xFFF)),
        st.tuples(st.just(0x5), st.integers(0, 0xFF)),
        st.tuples(st.sampled_from([0x7, 0xA, 0xE, 0xF]), st.integers(0, 0xFFF)),
    ),
    max_size=300,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=evt3_words)
def test_evt3_matches_reference(tmp_path: Path, words: list[tuple[int, int]]) -> None:
    arr = np.array([(k << 12) | v for k, v in words], dtype="<u2")
    f = evt3_file(tmp_path, arr.tolist())
    np.testing.assert_array_equal(read_evt3(f), reference_evt3(arr))


def test_evt2_golden_and_reserved(tmp_path: Path) -> None:
    def cd(on: int, tl: int, x: int, y: int) -> int:
        return (on << 28) | (tl << 22) | (x << 11) | y

    words = [cd(1, 1, 1, 1), (0x8 << 28) | 5, cd(1, 3, 10, 20), cd(0, 63, 639, 479), (0xA << 28) | 7,
             (0x8 << 28) | 6, cd(0, 0, 0, 0)]
    f = tmp_path / "e.raw"
    f.write_bytes(EVT2_HEADER + np.asarray(words, dtype="<u4").tobytes())
    assert detect_format(f) == "evt2"
    expected = make_events(t=[323, 383, 384], x=[10, 639, 0], y=[20, 479, 0], p=[1, 0, 0])
    np.testing.assert_array_equal(read_events(f), expected)
    f.write_bytes(EVT2_HEADER + np.asarray([(0x8 << 28), (0x3 << 28)], dtype="<u4").tobytes())
    with pytest.raises(CorruptRecordingError, match="reserved EVT 2.0 word type 0x3") as err:
        read_evt2(f)
    assert err.value.offset == len(EVT2_HEADER) + 4


def test_evt2_time_high_wrap(tmp_path: Path) -> None:
    words = [(0x8 << 28) | ((1 << 28) - 1), (1 << 28) | (63 << 22), (0x8 << 28) | 0, (1 << 28) | (1 << 22)]
    f = tmp_path / "w.raw"
    f.write_bytes(EVT2_HEADER + np.asarray(words, dtype="<u4").tobytes())
    assert read_evt2(f)["t"].tolist() == [(1 << 34) - 1, (1 << 34) + 1]


def dat_file(tmp_path: Path, events: list[tuple[int, int, int, int]], type_size: bytes = b"\x00\x08") -> Path:
    body = np.array([(t, x | (y << 14) | (p << 28)) for t, x, y, p in events], dtype=[("t", "<u4"), ("a", "<u4")])
    f = tmp_path / "e.dat"
    f.write_bytes(b"% Data file containing Event2D events.\n% Version 2\n" + type_size + body.tobytes())
    return f


def test_dat_golden(tmp_path: Path) -> None:
    f = dat_file(tmp_path, [(5, 1, 2, 1), (7, 0x3FFF, 0x3FFF, 0), (6, 3, 4, 1)])
    assert detect_format(f) == "dat"
    expected = make_events(t=[5, 6, 7], x=[1, 3, 0x3FFF], y=[2, 4, 0x3FFF], p=[1, 1, 0])
    np.testing.assert_array_equal(read_events(f), expected)


def test_dat_bad_type_and_polarity(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="event type 2"):
        read_dat(dat_file(tmp_path, [(1, 1, 1, 1)], type_size=b"\x02\x08"))
    with pytest.raises(CorruptRecordingError, match="polarity field 3"):
        read_dat(dat_file(tmp_path, [(1, 1, 1, 1), (2, 1, 1, 3)]))
    f = tmp_path / "short.dat"
    f.write_bytes(b"% Version 2\n\x00")
    with pytest.raises(FormatError, match="type and size"):
        read_dat(f)


def test_unsupported_raw_variant_is_not_detected(tmp_path: Path) -> None:
    f = tmp_path / "e.raw"
    f.write_bytes(b"% format EVT21;height=720;width=1280\n% end\n" + b"\0" * 8)
    with pytest.raises(FormatError, match="cannot detect"):
        detect_format(f)
    f.write_bytes(b"% format EVT3;height=720;width=1280\n% end\n")
    assert detect_format(f) == "evt3"
    assert len(read_events(f)) == 0


def test_evt3_dense_vectors_grow_the_output(tmp_path: Path) -> None:
    words = [w3(0x8, 0), w3(0x6, 0), w3(0x0, 5)]
    for _ in range(1000):
        words += [w3(0x3, (1 << 11) | 0), w3(0x4, 0xFFF), w3(0x5, 0xFF)]  # 20 events per 3 words
    ev = read_evt3(evt3_file(tmp_path, words))
    assert len(ev) == 20_000
    assert ev["x"][:20].tolist() == list(range(20)) and ev["p"].all()
