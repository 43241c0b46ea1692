"""Float representations of one sample's events, with tonic's definitions, as Numba kernels.

Each function takes validated events (:data:`~eventpipe.events.EVENT_DTYPE`, sorted, inside the
sensor; channel = ``p != 0`` on a two-polarity sensor, else 0) and returns float64 frames
``[T, C, H, W]``, which :func:`eventpipe.frames.accumulate.float_frames` then narrows for storage.

- :func:`voxel_grid`: tonic's ``to_voxel_grid_numpy`` (Zhu et al. 2019): ``M`` bins, one signed
  channel (``+1`` for ``p != 0``, ``-1`` otherwise; every event ``+1`` on a one-polarity sensor,
  where tonic refuses). Timestamps are scaled to
  ``ts = M * (t - t[0]) / (t[-1] - t[0])``; an event adds ``pol * (1 - (ts - floor(ts)))`` to bin
  ``floor(ts)`` and ``pol * (ts - floor(ts))`` to the next, where those bins exist (so events at
  ``t[-1]`` add nothing, as in tonic). The left contributions are summed first, in event order,
  then the right ones, as tonic's two ``np.add.at`` do, so the float64 sums are bit-identical.
  Where tonic fails: no events give zeros; a zero span gives every event weight 1 in bin 0.
- :func:`time_surface`: tonic's ``to_timesurface_numpy`` (Lagorce et al. 2016, over the whole
  sensor): windows of tonic's ``time_window`` slicing; after window ``i`` every pixel and channel
  holds ``exp((t_last - (t[0] + (i + 1) * dt)) / tau)``, ``t_last`` its latest event so far
  (0 where it has none). The reference time is tonic's ``t[0] + (i + 1) * dt`` with or without overlap.
- :func:`exp_decay`: per window of tonic's ``time_window`` slicing (``[b, b + W)`` with
  ``b = t[0] + k * (W - overlap)``), each event of the window adds ``exp(-(b + W - t) / tau)`` at
  its channel and pixel: recent events weigh about 1, older ones decay with time constant ``tau``.
- :func:`bina_rep`: tonic's ``ToBinaRep`` after ``ToFrame(n_time_bins=T * N)``: each group of
  ``N`` consecutive binary frames (count > 0) becomes the N-bit number they spell, first frame
  most significant, divided by ``2**N - 1`` (computed in float32 as tonic does).

Kernels follow the threading policy of :mod:`eventpipe.frames` (``nogil``, single-threaded).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from eventpipe.events import Events, SensorSize


def _channels(events: Events, size: SensorSize) -> np.ndarray:
    """Channel of every event: ``p != 0`` on a two-polarity sensor, else 0."""
    p = events["p"]
    return (p != 0).astype(np.int64) if size.polarities == 2 else np.zeros(len(p), dtype=np.int64)


@njit(nogil=True, cache=False)
def _voxel_grid(t: np.ndarray, x: np.ndarray, y: np.ndarray, p: np.ndarray, bins: int, width: int,
                height: int, out: np.ndarray) -> None:  # pragma: no cover - compiled
    n = len(t)
    if n == 0:
        return
    t0 = t[0]
    span = t[n - 1] - t0
    plane = height * width
    for side in range(2):  # every left contribution first, then every right one (tonic's order)
        for i in range(n):
            ts = bins * (float(t[i]) - float(t0)) / float(span) if span > 0 else 0.0
            ti = int(ts)
            dt = ts - ti
            pol = 1.0 if p[i] != 0 else -1.0
            b = ti + side
            if b < bins:
                out[b * plane + int(y[i]) * width + int(x[i])] += pol * (dt if side else 1.0 - dt)


def voxel_grid(events: Events, size: SensorSize, bins: int) -> np.ndarray:
    """tonic's voxel grid ``[bins, 1, H, W]`` (see the module)."""
    out = np.zeros(bins * size.height * size.width, dtype=np.float64)
    p = events["p"] if size.polarities == 2 else np.ones(len(events), dtype=events["p"].dtype)
    _voxel_grid(events["t"], events["x"], events["y"], p, bins, size.width, size.height, out)
    return out.reshape(bins, 1, size.height, size.width)


@njit(nogil=True, cache=False)
def _time_surface(t: np.ndarray, x: np.ndarray, y: np.ndarray, c: np.ndarray, stops: np.ndarray,
                  refs: np.ndarray, tau: float, width: int, plane: int, out: np.ndarray) -> None:  # pragma: no cover
    memory = np.full(out.shape[1], -np.inf)
    i = 0
    for f in range(len(stops)):
        while i < stops[f]:
            memory[c[i] * plane + int(y[i]) * width + int(x[i])] = t[i]
            i += 1
        for k in range(out.shape[1]):
            out[f, k] = math.exp((memory[k] - refs[f]) / tau)


def time_surface(events: Events, size: SensorSize, stops: npt.NDArray[np.int64], dt: int, tau: int) -> np.ndarray:
    """tonic's time surfaces ``[len(stops), P, H, W]`` after the windows ending at event ``stops``."""
    t = events["t"]
    refs = (t[0] if len(t) else 0) + (np.arange(len(stops), dtype=np.float64) + 1) * dt
    out = np.zeros((len(stops), size.polarities * size.height * size.width), dtype=np.float64)
    _time_surface(t, events["x"], events["y"], _channels(events, size), stops, refs, float(tau), size.width,
                  size.height * size.width, out)
    return out.reshape(size.frame_shape(len(stops)))


@njit(nogil=True, cache=False)
def _exp_decay(t: np.ndarray, x: np.ndarray, y: np.ndarray, c: np.ndarray, starts: np.ndarray,
               stops: np.ndarray, ends: np.ndarray, tau: float, width: int, plane: int,
               out: np.ndarray) -> None:  # pragma: no cover - compiled
    for f in range(len(starts)):
        for i in range(starts[f], stops[f]):
            out[f, c[i] * plane + int(y[i]) * width + int(x[i])] += math.exp(-(ends[f] - float(t[i])) / tau)


def exp_decay(events: Events, size: SensorSize, starts: npt.NDArray[np.int64], stops: npt.NDArray[np.int64],
              window: int, overlap: float, tau: int) -> np.ndarray:
    """Exponentially decayed frames ``[len(starts), P, H, W]`` of tonic's time windows (see the module)."""
    t = events["t"]
    ends = (t[0] if len(t) else 0) + np.arange(len(starts), dtype=np.float64) * (window - overlap) + window
    out = np.zeros((len(starts), size.polarities * size.height * size.width), dtype=np.float64)
    _exp_decay(t, events["x"], events["y"], _channels(events, size), starts, stops, ends, float(tau), size.width,
               size.height * size.width, out)
    return out.reshape(size.frame_shape(len(starts)))


def bina_rep(counts: np.ndarray, n_frames: int, n_bits: int) -> np.ndarray:
    """tonic's Bina-Rep ``[n_frames, P, H, W]`` (float32) of ``n_frames * n_bits`` count frames."""
    binary = (counts > 0).reshape(n_frames, n_bits, *counts.shape[1:])
    weights = (1 << np.arange(n_bits - 1, -1, -1, dtype=np.int64)).reshape(1, n_bits, 1, 1, 1)
    codes = (binary * weights).sum(axis=1)
    return codes.astype(np.float32) / np.float32(2 ** n_bits - 1)
