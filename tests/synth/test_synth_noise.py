"""Noise sources: Poisson rates, hot pixels where they were placed, lamp flicker locked to its phase."""

from __future__ import annotations

import numpy as np

from eventpipe.events import SensorSize
from eventpipe.synth.noise import MAINS_HZ, NoiseModel
from eventpipe.synth.pixels import Columns

SENSOR = SensorSize(20, 10, 2)


def _fire(model: NoiseModel, start: int, stop: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    cols = Columns()
    model.fire(np.random.default_rng(seed), start, stop, cols)
    return cols.concat()


def _model(**kwargs: float) -> NoiseModel:
    params = {"background_hz": 0.0, "hot_fraction": 0.0, "flicker_fraction": 0.0, "flicker_hz": 0.0, **kwargs}
    return NoiseModel.draw(np.random.default_rng(5), SENSOR, **params)


def test_background_activity_rate_and_window() -> None:
    t, x, y, p = _fire(_model(background_hz=2.0), 3_000_000, 13_000_000)
    expected = 2.0 * 200 * 10  # Hz x pixels x seconds
    assert abs(len(t) - expected) < 5 * np.sqrt(expected)
    assert t.min() >= 3_000_000 and t.max() < 13_000_000
    assert x.max() == 19 and y.max() == 9 and 0.45 < p.mean() < 0.55


def test_hot_pixels_fire_at_their_place_and_rate() -> None:
    model = _model(hot_fraction=0.05)
    assert len(model.hot_index) > 0
    t, x, y, p = _fire(model, 0, 2_000_000)
    assert set((y * SENSOR.width + x).tolist()) == set(model.hot_index.tolist())
    expected = model.hot_hz.sum() * 2.0
    assert abs(len(t) - expected) < 5 * np.sqrt(expected)


def test_flicker_is_phase_locked() -> None:
    model = _model(flicker_fraction=0.2, flicker_hz=50.0)
    t, x, y, p = _fire(model, 1_000_000, 3_000_000)
    assert len(t) > 1000 and t.min() >= 1_000_000 and t.max() < 3_000_000
    assert set((y * SENSOR.width + x).tolist()) <= set(model.flicker_index.tolist())
    phase = (t % (1e6 / MAINS_HZ)) / (1e6 / MAINS_HZ)
    assert (phase[p == 1] < 0.25 + 1e-6).all()
    assert ((phase[p == 0] >= 0.5 - 1e-6) & (phase[p == 0] < 0.75 + 1e-6)).all()


def test_empty_window() -> None:
    t, *_ = _fire(_model(background_hz=5.0, hot_fraction=0.05), 10, 10)
    assert len(t) == 0
