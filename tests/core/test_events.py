from __future__ import annotations

import numpy as np
import pytest

from eventpipe.errors import ConfigError, EventValidationError
from eventpipe.events import (
    EVENT_DTYPE,
    SensorSize,
    as_events,
    check_in_sensor,
    check_sorted,
    make_events,
    validate_events,
)


def test_dtype_fields() -> None:
    assert EVENT_DTYPE.names == ("t", "x", "y", "p")
    assert EVENT_DTYPE["t"] == np.int64 and EVENT_DTYPE["x"] == np.uint16 and EVENT_DTYPE["p"] == np.uint8


def test_sensor_size_parse_and_shape() -> None:
    s = SensorSize.parse((128, 64, 2))
    assert s == SensorSize(128, 64, 2)
    assert s.frame_shape(5) == (5, 2, 64, 128)
    with pytest.raises(ConfigError, match="sensor_size"):
        SensorSize.parse((1, 2))
    with pytest.raises(ConfigError, match="height"):
        SensorSize.parse((4, 0, 2))


def test_unsorted_error_names_sample_field_and_value() -> None:
    ev = make_events([0, 5, 3], [0, 0, 0], [0, 0, 0], [0, 1, 0])
    with pytest.raises(EventValidationError, match=r"sample s7: field t is not sorted: t\[2\] = 3 < t\[1\] = 5"):
        check_sorted(ev, sample="s7")


def test_out_of_sensor_error() -> None:
    ev = make_events([0, 1], [3, 4], [0, 0], [0, 1])
    with pytest.raises(EventValidationError, match=r"sample 3: field x out of sensor bounds: x\[1\] = 4"):
        check_in_sensor(ev, (4, 4, 2), sample="3")
    validate_events(ev[:1], (4, 4, 2))


def test_as_events_converts_tonic_dtype() -> None:
    tonic_dtype = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "<i2")])
    ev = np.array([(1, 2, 10, -1), (3, 4, 20, 1)], dtype=tonic_dtype)
    out = as_events(ev)
    assert out.dtype == EVENT_DTYPE
    assert out["p"].tolist() == [0, 1] and out["x"].tolist() == [1, 3]


def test_make_events_length_mismatch() -> None:
    with pytest.raises(EventValidationError, match="equal lengths"):
        make_events([0, 1], [0], [0, 0], [0, 0])


def test_errors_pickle_round_trip() -> None:
    import pickle

    from eventpipe.errors import ChecksumMismatch, CorruptRecordingError

    e = pickle.loads(pickle.dumps(CorruptRecordingError("a.aedat", 28, "truncated packet")))
    assert (e.path, e.offset, e.reason, str(e)) == ("a.aedat", 28, "truncated packet", "a.aedat: corrupt at byte 28: truncated packet")
    c = pickle.loads(pickle.dumps(ChecksumMismatch("f", "md5", "aa", "bb")))
    assert str(c) == "f: md5 mismatch: expected aa, got bb"
