"""Sensor noise that fires with no motion: background activity, hot pixels and lamp flicker.

Each source is fixed per recording (which pixels are hot, which flicker) and drawn per time window,
so gaps between gestures hold only these events, as in real recordings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eventpipe.events import SensorSize
from eventpipe.synth.pixels import Columns

MAINS_HZ = 120.0
"""Lamp flicker frequency (twice the 60 Hz mains frequency)."""


@dataclass(frozen=True)
class NoiseModel:
    """The noise sources of one recording.

    Parameters
    ----------
    sensor : geometry.
    background_hz : background-activity rate per pixel, Hz (random pixel, time and polarity).
    hot_index : flat pixel indices (``y * width + x``) of hot pixels.
    hot_hz : firing rate of each hot pixel, Hz.
    hot_on : probability that a hot pixel's event is ON, per hot pixel.
    flicker_index : flat pixel indices that see a flickering lamp (empty for none).
    flicker_hz : event rate of each flickering pixel, Hz; events are phase-locked to the lamp:
        ON in the rising quarter of its period, OFF in the falling quarter.
    """

    sensor: SensorSize
    background_hz: float
    hot_index: np.ndarray
    hot_hz: np.ndarray
    hot_on: np.ndarray
    flicker_index: np.ndarray
    flicker_hz: float

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        sensor: SensorSize,
        *,
        background_hz: float,
        hot_fraction: float,
        flicker_fraction: float,
        flicker_hz: float,
    ) -> NoiseModel:
        """Pick the hot and flickering pixels of one recording."""
        n_pixels = sensor.width * sensor.height
        n_hot = int(rng.binomial(n_pixels, hot_fraction)) if hot_fraction > 0 else 0
        n_flicker = int(round(n_pixels * flicker_fraction))
        return cls(
            sensor=sensor,
            background_hz=background_hz,
            hot_index=rng.choice(n_pixels, n_hot, replace=False),
            hot_hz=rng.uniform(20.0, 150.0, n_hot),
            hot_on=rng.choice([0.1, 0.9], n_hot),
            flicker_index=rng.choice(n_pixels, n_flicker, replace=False),
            flicker_hz=flicker_hz,
        )

    def fire(self, rng: np.random.Generator, start_us: int, stop_us: int, out: Columns) -> None:
        """Append the noise events of ``[start_us, stop_us)`` to ``out`` (unsorted)."""
        span_s = (stop_us - start_us) / 1e6
        if span_s <= 0:
            return
        width = self.sensor.width
        n_pixels = width * self.sensor.height

        n = int(rng.poisson(self.background_hz * n_pixels * span_s))
        pix = rng.integers(0, n_pixels, n)
        out.add(rng.integers(start_us, stop_us, n), pix % width, pix // width, rng.integers(0, 2, n))

        counts = rng.poisson(self.hot_hz * span_s)
        which = np.repeat(np.arange(len(counts)), counts)
        pix = self.hot_index[which]
        hot_on = rng.random(len(which)) < self.hot_on[which]
        out.add(rng.integers(start_us, stop_us, len(which)), pix % width, pix // width, hot_on)

        if len(self.flicker_index) and self.flicker_hz > 0:
            n = int(rng.poisson(self.flicker_hz * len(self.flicker_index) * span_s))
            pix = self.flicker_index[rng.integers(0, len(self.flicker_index), n)]
            period_us = 1e6 / MAINS_HZ
            first, last = int(start_us // period_us), int(stop_us // period_us)
            cycle_start = rng.integers(first, last + 1, n) * period_us
            on = rng.integers(0, 2, n)
            # rising quarter [0, T/4) fires ON, falling quarter [T/2, 3T/4) fires OFF
            offset = np.where(on == 1, 0.0, period_us / 2) + rng.random(n) * period_us / 4
            t = (cycle_start + offset).astype(np.int64)
            keep = (t >= start_us) & (t < stop_us)
            out.add(t[keep], (pix % width)[keep], (pix // width)[keep], on[keep])
