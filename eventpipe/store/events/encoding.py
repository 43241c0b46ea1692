"""The events store's column encoding: samples in memory to the stored columns of a part, and back.

A sample's timestamps are stored as deltas (``dt``, 0 at the sample's first event) from its first
timestamp ``t0``, kept in the split index, so sample ``i`` decodes from its own events alone;
coordinates are narrowed to :func:`~eventpipe.store.events.layout.coord_dtype`. Both directions are
one Numba pass (:mod:`eventpipe.store.events.kernels`); encoding also checks sortedness and bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from eventpipe.errors import EventValidationError
from eventpipe.events import EVENT_DTYPE, Events, SensorSize, as_events
from eventpipe.store.events.layout import COLUMNS, coord_dtype
from eventpipe.store.samples import SampleBatch


@dataclass(frozen=True)
class EncodedBatch:
    """Samples in stored form: the columns of :data:`COLUMNS`, ``offsets`` (n+1), ``labels``, ``t0``,
    ``t1`` (first and last timestamp per sample, µs) and per-sample ``meta`` lists."""

    columns: dict[str, np.ndarray]
    offsets: np.ndarray
    labels: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    meta: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_events(self) -> int:
        return int(self.offsets[-1])

    @classmethod
    def empty(cls, sensor: SensorSize, meta_columns: Sequence[str] = ()) -> EncodedBatch:
        """No samples (a part whose every file was skipped)."""
        cdt = coord_dtype(sensor)
        columns = {"dt": np.zeros(0, np.uint32), "x": np.zeros(0, cdt), "y": np.zeros(0, cdt), "p": np.zeros(0, np.uint8)}
        none = np.zeros(0, np.int64)
        return cls(columns, np.zeros(1, np.int64), none, none, none, {c: [] for c in meta_columns})

    @classmethod
    def concat(cls, parts: Sequence[EncodedBatch]) -> EncodedBatch:
        """The samples of ``parts`` (at least one) one after the other."""
        if len(parts) == 1:
            return parts[0]
        shifts = np.cumsum([0] + [b.n_events for b in parts[:-1]])
        return cls(
            {c: np.concatenate([b.columns[c] for b in parts]) for c in COLUMNS},
            np.concatenate([[0]] + [b.offsets[1:] + s for b, s in zip(parts, shifts, strict=True)]).astype(np.int64),
            np.concatenate([b.labels for b in parts]),
            np.concatenate([b.t0 for b in parts]),
            np.concatenate([b.t1 for b in parts]),
            {c: [v for b in parts for v in b.meta[c]] for c in parts[0].meta},
        )


def encode(batch: SampleBatch, sensor: SensorSize, where: str) -> EncodedBatch:
    """The stored form of ``batch`` (one Numba pass, :func:`eventpipe.store.events.kernels.encode_columns`).

    Raises :class:`EventValidationError` naming ``where`` (a source file) when a sample's timestamps
    decrease or an event lies outside ``sensor``.
    """
    from eventpipe.store.events.kernels import encode_columns

    if batch.events.dtype != EVENT_DTYPE:  # the kernel reads whole records of one layout
        batch = replace(batch, events=as_events(batch.events, where))
    ev = batch.events
    n = batch.n_events
    offsets = np.ascontiguousarray(batch.offsets, dtype=np.int64)
    starts = np.ascontiguousarray(batch.source_starts(), dtype=np.int64)
    cdt = coord_dtype(sensor)
    columns = {"dt": np.empty(n, np.uint32), "x": np.empty(n, cdt), "y": np.empty(n, cdt), "p": np.empty(n, np.uint8)}
    min_dt, max_dt, *maxima = encode_columns(ev, starts, offsets, *columns.values())
    if min_dt < 0:
        bad = next(i for i in range(len(batch)) if np.any(np.diff(batch.sample(i)["t"]) < 0))
        t = batch.sample(bad)["t"]
        k = int(np.argmax(np.diff(t) < 0)) + 1
        raise EventValidationError(
            f"{where}: sample {bad}: field t is not sorted: t[{k}] = {int(t[k])} < {int(t[k - 1])}."
        )
    if max_dt > np.iinfo(np.uint32).max:  # a gap of over 71 minutes inside one sample
        columns["dt"] = np.empty(n, np.uint64)
        encode_columns(ev, starts, offsets, *columns.values())
    for field, value, limit in zip("xyp", maxima, (sensor.width, sensor.height, sensor.polarities), strict=True):
        if value >= limit:
            s = next(i for i in range(len(batch)) if np.any(batch.sample(i)[field] >= limit))
            col = batch.sample(s)[field]
            i = int(np.argmax(col >= limit))
            raise EventValidationError(
                f"{where}: sample {s}: field {field} out of sensor bounds: {field}[{i}] = {int(col[i])}, "
                f"valid range is [0, {limit - 1}] for sensor {tuple(sensor)}."
            )
    lengths = np.diff(offsets)
    nonempty = lengths > 0
    t0 = np.zeros(len(batch), dtype=np.int64)
    t1 = np.zeros(len(batch), dtype=np.int64)
    t0[nonempty] = ev["t"][starts[nonempty]]
    t1[nonempty] = ev["t"][starts[nonempty] + lengths[nonempty] - 1]
    return EncodedBatch(columns, offsets, np.asarray(batch.labels, np.int64), t0, t1, dict(batch.meta))


def decode(t0: int, dt: np.ndarray, x: np.ndarray, y: np.ndarray, p: np.ndarray) -> Events:
    """Events of one sample from its stored columns (``dt[0]`` is 0, so ``t[0] == t0``): one Numba
    pass (:func:`eventpipe.store.events.kernels.decode_columns`) straight into the event records."""
    from eventpipe.store.events.kernels import decode_columns

    out = np.empty(len(dt), dtype=EVENT_DTYPE)
    if len(dt):
        decode_columns(np.int64(t0), dt, x, y, p, out["t"], out["x"], out["y"], out["p"])
    return out
