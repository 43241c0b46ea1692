"""The counting kernel decodes every byte of an event: high bytes of x, y and t, and the index of a bad event;
its variant for events read from a store (``validated=True``) counts the same frames."""

from __future__ import annotations

import numpy as np
import pytest
from frames_strategies import hot_samples, samples
from hypothesis import given, settings
from hypothesis import strategies as st

from eventpipe.errors import EventValidationError
from eventpipe.events import SensorSize, make_events
from eventpipe.frames import IntegrationSpec, integrate, reference

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


DISJOINT = st.sampled_from([{"frames": 3}, {"frames": 4, "split_by": "time"}, {"duration_us": 150},
                            {"events_per_frame": 7}, {"event_count": 5}, {"time_window": 200}])


@settings(max_examples=80, deadline=None)
@given(st.one_of(samples(), hot_samples()), DISJOINT)
def test_validated_events_give_the_frames_of_the_checked_path(sample: tuple[np.ndarray, SensorSize],
                                                              kwargs: dict[str, int | str]) -> None:
    ev, size = sample
    spec = IntegrationSpec(**kwargs)
    checked = spec(ev, size)
    trusted = spec(ev, size, validated=True)
    assert trusted.dtype == checked.dtype  # also after a uint8 -> uint16 resume on a hot pixel
    np.testing.assert_array_equal(trusted, checked)


def test_integrate_on_an_unsorted_user_array_still_raises() -> None:
    ev = _wide_events(5_000, 2)
    ev["t"][2000], ev["t"][2001] = ev["t"][2001], ev["t"][2000] - 1
    with pytest.raises(EventValidationError, match=r"t is not sorted: t\[2001\]"):
        integrate(ev, WIDE, frames=7)


def test_validated_events_keep_the_coordinate_check() -> None:
    ev = _wide_events(5_000, 3)
    ev["y"][4321] = 720
    with pytest.raises(EventValidationError, match=r"y\[4321\] = 720"):
        IntegrationSpec(frames=7)(ev, WIDE, validated=True)
