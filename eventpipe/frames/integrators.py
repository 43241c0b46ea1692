"""``integrate``: one sample's events into frames, by keyword arguments (see :mod:`eventpipe.frames.spec`)."""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eventpipe.events import SensorSize
from eventpipe.frames.filter_chain import FilterChain
from eventpipe.frames.plugins import IntegratorFn
from eventpipe.frames.spec import IntegrationSpec, integration_spec


def integrate(
    events: Any,
    sensor_size: SensorSize | Sequence[int],
    *,
    frames: int | None = None,
    split_by: str = "number",
    duration_us: int | None = None,
    events_per_frame: int | None = None,
    fn: str | IntegratorFn | None = None,
    drop_incomplete: bool = False,
    n_time_bins: int | None = None,
    event_count: int | None = None,
    time_window: int | None = None,
    overlap: float | int = 0,
    include_incomplete: bool = False,
    voxel_grid: int | None = None,
    time_surface: int | None = None,
    event_image: bool | None = None,
    bina_rep: int | None = None,
    exp_decay: int | None = None,
    tau: int | None = None,
    n_bits: int = 8,
    frames_dtype: str | None = None,
    duration_rule: str = "aligned",
    filters: FilterChain | Sequence[Mapping[str, Any]] = (),
) -> np.ndarray:
    """Integrate one sample's events into frames ``[T, C, H, W]``: counts, or floats for the float
    representations (``voxel_grid``, ``time_surface``, ``bina_rep``, ``exp_decay``) and a plugin's
    fractional results.

    Choose exactly one mode (see :class:`~eventpipe.frames.spec.IntegrationSpec`). Channel = ``p != 0``; a one-polarity
    sensor (``P = 1``) counts every event in channel 0.

    Parameters
    ----------
    events
        Sorted structured array with fields t (µs), x, y, p, or a dict of arrays with those keys.
    sensor_size
        :class:`~eventpipe.events.SensorSize` or a plain ``(W, H, P)`` tuple, P in {1, 2}.
    duration_rule
        With ``duration_us``: ``"aligned"`` windows or SpikingJelly 0.0.0.0.14's ``"next-event"`` ones.
    filters
        Event filters run before integration, e.g. ``[{"name": "denoise", "filter_time": 10000}]``
        (see :func:`~eventpipe.frames.filter_chain.filter_chain`).

    Returns
    -------
    numpy.ndarray
        Counts in the smallest of uint8/uint16/uint32 that holds them (never wrapped), or float16 /
        float32 float frames (``frames_dtype``).

    Raises
    ------
    ConfigError
        Not exactly one mode, or an invalid parameter (the message names it and the valid values).
    EventValidationError
        Unsorted ``t`` or coordinates outside the sensor.

    >>> from eventpipe.events import make_events
    >>> ev = make_events(t=[0, 1, 2, 3], x=[0, 1, 1, 1], y=[0, 0, 0, 1], p=[1, 0, 0, 1])
    >>> f = integrate(ev, (2, 2, 2), frames=2)
    >>> f.shape, f.dtype.name, f[1].tolist()
    ((2, 2, 2, 2), 'uint8', [[[0, 1], [0, 0]], [[0, 0], [0, 1]]])
    """
    options = dict(frames=frames, split_by=split_by, duration_us=duration_us, events_per_frame=events_per_frame,
                   fn=fn, drop_incomplete=drop_incomplete, n_time_bins=n_time_bins, event_count=event_count,
                   time_window=time_window, overlap=overlap, include_incomplete=include_incomplete,
                   voxel_grid=voxel_grid, time_surface=time_surface, event_image=event_image, bina_rep=bina_rep,
                   exp_decay=exp_decay, tau=tau, n_bits=n_bits, frames_dtype=frames_dtype,
                   duration_rule=duration_rule, filters=filters)
    return typing.cast(IntegrationSpec, integration_spec(options, required=True))(events, sensor_size)
