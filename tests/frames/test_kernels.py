"""The counting kernel decodes every byte of an event: high bytes of x, y and t, and the index of a bad event."""

from __future__ import annotations

import numpy as np
import pytest

from eventpipe.errors import EventValidationError
from eventpipe.events import SensorSize, make_events
from eventpipe.frames import integrate, reference

WIDE = SensorSize(1280, 720, 2)


def _wide_events(n: int, seed: int) -> np.ndarray:
    """Events whose x, y use both bytes and whose t spans past 2**32 from a negative start."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(-(2**40), 2**40, n))
    return make_events(t, rng.integers(0, WIDE.width, n), rng.integers(0, WIDE.height, n), rng.integers(0, 2, n))


def test_high_bytes_of_every_field_count_as_the_reference() -> None:
    ev = _wide_events(5_000, 0)
    np.testing.assert_array_equal(integrate(ev, WIDE, frames=7), reference.number(ev, WIDE, 7))
    np.testing.assert_array_equal(integrate(ev, WIDE, frames=7, split_by="time"), reference.time(ev, WIDE, 7))


@pytest.mark.parametrize(
    ("field", "value", "pattern"),
    [("x", 1280, r"x\[4321\] = 1280"), ("y", 720, r"y\[4321\] = 720"), ("t", -(2**41), r"t\[4321\] = -2199023255552")],
)
def test_bad_event_in_a_later_frame_is_named_by_index(field: str, value: int, pattern: str) -> None:
    ev = _wide_events(5_000, 1)
    ev[field][4321] = value
    with pytest.raises(EventValidationError, match=pattern):
        integrate(ev, WIDE, frames=7)
