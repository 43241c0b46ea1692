"""Numba kernels of the events store: one pass from events to stored columns and back.

Splitting the structured event array into columns, delta-encoding ``t`` per sample, narrowing the
coordinates and checking sortedness and bounds are one loop over the events; done with NumPy they
would be six passes over strided memory. Single-threaded and ``nogil`` so Dask worker threads run
it in parallel.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=False)
def encode_columns(events, starts, offsets, dt_out, x_out, y_out, p_out):  # noqa: ANN001, ANN201 - Numba kernel
    """Fill the stored columns of the samples ``s``: source events ``starts[s]`` onwards (records of
    :data:`~eventpipe.events.EVENT_DTYPE`), written at ``offsets[s]:offsets[s+1]`` of the outputs.

    ``dt_out`` holds ``t`` minus the previous event's ``t`` within a sample and 0 at each sample
    start; coordinates and polarities are copied into the (narrower) output dtypes unchecked.
    Returns ``(min_dt, max_dt, max_x, max_y, max_p)``: the smallest delta (negative when some ``t``
    decreased inside a sample; the caller then finds where), the largest (the caller checks it fits
    ``dt_out``'s dtype) and the maxima of x, y, p for the sensor bounds check. It reads whole records
    and keeps branch-free running extrema, cheaper than field views and per-event branches.
    """
    min_dt = 0
    max_dt = 0
    max_x = 0
    max_y = 0
    max_p = 0
    for s in range(len(offsets) - 1):
        src = starts[s]
        dst = offsets[s]
        n = offsets[s + 1] - dst
        if n == 0:
            continue
        prev = events[src].t
        for k in range(n):
            r = events[src + k]
            o = dst + k
            t = r.t
            d = t - prev
            prev = t
            min_dt = min(min_dt, d)
            max_dt = max(max_dt, d)
            xj = r.x
            yj = r.y
            pj = r.p
            max_x = max(max_x, xj)
            max_y = max(max_y, yj)
            max_p = max(max_p, pj)
            dt_out[o] = d
            x_out[o] = xj
            y_out[o] = yj
            p_out[o] = pj
    return min_dt, max_dt, max_x, max_y, max_p


@njit(nogil=True, cache=False)
def decode_columns(t0, dt, x, y, p, t_out, x_out, y_out, p_out):  # noqa: ANN001, ANN201 - Numba kernel
    """Fill the fields of one sample's events from its stored columns: ``t`` is ``t0`` plus the running
    sum of ``dt``; coordinates and polarities are widened into the event fields.

    One pass writing each record once, where NumPy would make a cumulative sum into the strided ``t``
    field and then copy each column.
    """
    t = t0
    for k in range(len(dt)):
        t += np.int64(dt[k])
        t_out[k] = t
        x_out[k] = x[k]
        y_out[k] = y[k]
        p_out[k] = p[k]

