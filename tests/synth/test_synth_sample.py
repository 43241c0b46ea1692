"""gesture_like_sample: exact counts, Gesture-like geometry and timing, bursty rate, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from eventpipe.errors import ConfigError
from eventpipe.events import EVENT_DTYPE, SensorSize, validate_events
from eventpipe.synth import GESTURE_CLASSES, gesture_like_sample


def test_full_size_sample() -> None:
    ev = gesture_like_sample(np.random.default_rng(0), 300_000)
    assert ev.dtype == EVENT_DTYPE and len(ev) == 300_000
    validate_events(ev, (128, 128, 2))
    span = int(ev["t"][-1] - ev["t"][0])
    assert 5_500_000 < span <= 6_000_000
    assert ev["t"][0] >= 10_000_000  # absolute timestamps: integration must not assume t0 = 0
    assert 0.3 < ev["p"].mean() < 0.7
    rate = np.bincount((ev["t"] - ev["t"][0]) // 100_000)
    assert rate.max() > 3 * np.median(rate)  # bursty: some 100 ms windows fire far above the median


@pytest.mark.parametrize("label", range(len(GESTURE_CLASSES)))
def test_every_class_hits_the_count(label: int) -> None:
    ev = gesture_like_sample(
        np.random.default_rng(label), 5_000, SensorSize(32, 32, 2), 1_000_000, label=label
    )
    assert len(ev) == 5_000
    validate_events(ev, (32, 32, 2))


def test_deterministic_for_a_generator_state() -> None:
    a = gesture_like_sample(np.random.default_rng(3), 20_000, SensorSize(48, 32, 2), 2_000_000)
    b = gesture_like_sample(np.random.default_rng(3), 20_000, SensorSize(48, 32, 2), 2_000_000)
    c = gesture_like_sample(np.random.default_rng(4), 20_000, SensorSize(48, 32, 2), 2_000_000)
    assert a.tobytes() == b.tobytes() and a.tobytes() != c.tobytes()
    assert a["x"].max() > 32  # non-square sensor: x uses the width


def test_zero_events() -> None:
    ev = gesture_like_sample(np.random.default_rng(0), 0)
    assert ev.dtype == EVENT_DTYPE and len(ev) == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_events": -1}, "n_events"),
        ({"n_events": 10, "label": 11}, "label"),
        ({"n_events": 10, "duration_us": 1000}, "duration_us"),
        ({"n_events": 10, "sensor": (0, 4, 2)}, "width"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        gesture_like_sample(np.random.default_rng(0), **kwargs)  # type: ignore[arg-type]
