"""Integrate a packed batch of events into count frames with torch, on the device the events are on.

:class:`TorchFrames` takes an :class:`~eventpipe.loading.event_batches.EventBatch` (moved to a device
or not) and returns ``(frames [T, N, C, H, W] float32, labels [N], mask [T, N])``: the frames of every
sample are those of :class:`~eventpipe.frames.IntegrationSpec` on its events, zero-padded to the
batch's longest ``T`` with the mask of :func:`eventpipe.collate.pad_sequence_collate_time_first`.

Every count mode is reproduced exactly: the frame boundaries are :mod:`eventpipe.frames.slicing`'s
arithmetic, computed for all samples at once (a matrix ``[N, T]`` of event index ranges found with
one ``torch.searchsorted`` over the whole batch), and the counts are one ``index_add_`` of ones
over every (frame, event) pair, so the work per batch is a fixed number of tensor operations
whatever the number of events. Counts accumulate in float32: sums of ones are exact up to 2**24
events per pixel and frame in any order, so CUDA's atomic adds give the same frames every time. Timestamps are compared as ``numpy.searchsorted`` compares them: an integer ``t``
lies before a float boundary ``v`` exactly when ``t < ceil(v)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from eventpipe.errors import ConfigError, EventValidationError
from eventpipe.events import SensorSize
from eventpipe.frames.spec import IntegrationSpec

__all__ = ["COUNT_MODES", "TorchFrames"]

COUNT_MODES = ("number", "time", "duration", "events_per_frame", "n_time_bins", "event_count", "time_window",
               "event_image")
"""The integration modes :class:`TorchFrames` computes (the count modes of ``IntegrationSpec``)."""


@dataclass(frozen=True)
class _Segments:
    """Per-sample facts of a packed batch: first index, event count, first and last timestamp."""

    first: torch.Tensor
    n: torch.Tensor
    t0: torch.Tensor
    span: torch.Tensor


def _segments(t: torch.Tensor, offsets: torch.Tensor) -> _Segments:
    first, n = offsets[:-1], offsets[1:] - offsets[:-1]
    if len(t) == 0:
        return _Segments(first, n, torch.zeros_like(n), torch.zeros_like(n))
    has = n > 0
    t0 = torch.where(has, t[first.clamp(max=len(t) - 1)], 0)
    last = torch.where(has, t[(offsets[1:] - 1).clamp(min=0)], 0)
    return _Segments(first, n, t0, last - t0)


class _Search:
    """Left insertion points of per-sample timestamps in their own sample, for the whole batch at once.

    Events get the key ``sample * stride + (t - t0)``; a boundary of sample ``i`` clamped to
    ``[t0, t_last + 1]`` gets the same key form. One search of the sorted keys then answers every
    sample (a boundary below ``t0`` finds the sample's first event, one past ``t_last`` its end).
    """

    def __init__(self, t: torch.Tensor, seg: _Segments) -> None:
        self.seg = seg
        self.stride = int(seg.span.max()) + 2 if len(seg.span) else 2
        sample = torch.repeat_interleave(torch.arange(len(seg.n), device=t.device), seg.n, output_size=len(t))
        self.keys = sample * self.stride + (t - seg.t0[sample])

    def __call__(self, bounds: torch.Tensor) -> torch.Tensor:
        """Global event indices ``[N, K]`` of integer boundaries ``[N, K]`` (µs)."""
        rel = torch.minimum((bounds - self.seg.t0[:, None]).clamp(min=0), self.seg.span[:, None] + 1)
        base = torch.arange(len(self.seg.n), device=bounds.device)[:, None] * self.stride
        found = torch.searchsorted(self.keys, (base + rel).reshape(-1)).reshape(bounds.shape)
        return torch.where(self.seg.n[:, None] > 0, found, self.seg.first[:, None])


def _ceil(values: torch.Tensor) -> torch.Tensor:
    """Float64 boundaries as the integers that compare like them with integer timestamps."""
    return torch.ceil(values).to(torch.int64)


class TorchFrames:
    """Frames of a packed event batch by a count-mode ``spec``, computed where the batch is.

    Parameters
    ----------
    spec
        An :class:`~eventpipe.frames.IntegrationSpec` of one of :data:`COUNT_MODES` (``duration_rule``
        ``"aligned"``), without filters: a spec's filters run per sample before packing.
    sensor_size
        ``(W, H, P)`` of the events, P in {1, 2} (channel ``p != 0``; one channel counts every event).

    Called with a batch ``(t, x, y, p, offsets, labels)`` and a seed (unused: the integration draws
    nothing), it returns ``(frames [T, N, P, H, W] float32, labels, mask [T, N])``: a
    :class:`eventpipe.train.data.BatchTransform`.
    """

    def __init__(self, spec: IntegrationSpec, sensor_size: SensorSize | Sequence[int]) -> None:
        if not isinstance(spec, IntegrationSpec) or spec.mode not in COUNT_MODES:
            mode = spec.mode if isinstance(spec, IntegrationSpec) else type(spec).__name__
            raise ConfigError(f"On-the-fly integration computes the count modes {', '.join(COUNT_MODES)}; got "
                              f"{mode}. Use a frames store for it (drop on_the_fly).")
        if spec.duration_rule != "aligned":
            raise ConfigError(f"On-the-fly integration computes aligned fixed durations; duration_rule="
                              f"{spec.duration_rule!r} opens each window at the previous one's end, one window "
                              "after the other: use a frames store for it (drop on_the_fly).")
        if spec.filters:
            raise ConfigError("TorchFrames integrates packed events as they are; run the spec's filters on each "
                              "sample before packing (the dataset's transform=spec.filter_chain) and pass "
                              "dataclasses.replace(spec, filters=()).")
        self.spec = spec
        self.sensor_size = SensorSize.parse(sensor_size)
        if self.sensor_size.polarities not in (1, 2):
            raise ConfigError(f"Expected sensor_size.polarities in {{1, 2}} (channel = p != 0). "
                              f"Got {self.sensor_size.polarities} instead.")

    def slices(self, t: torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(starts, stops, lengths)``: global event ranges ``[N, T]`` of every frame (zero past a
        sample's ``lengths[i]`` frames), as :meth:`IntegrationSpec.slices` gives them per sample."""
        spec, seg = self.spec, _segments(t, offsets)
        device, n = t.device, seg.n
        mode = spec.mode
        count = len(n)

        def grid(frames: int) -> torch.Tensor:
            return torch.arange(frames, device=device, dtype=torch.int64)[None, :].expand(count, frames)

        if mode == "number":
            m = int(spec.frames)  # type: ignore[arg-type]
            di = (n // m)[:, None]
            starts = grid(m) * di
            stops = starts + di
            stops[:, -1] = n
            lengths = torch.full_like(n, m)
        elif mode == "event_image":
            starts, stops, lengths = torch.zeros_like(n)[:, None], n[:, None], torch.ones_like(n)
        elif mode == "events_per_frame":
            k = int(spec.events_per_frame)  # type: ignore[arg-type]
            lengths = n // k if spec.drop_incomplete else torch.clamp(-(-n // k), min=1)
            starts = grid(int(lengths.max()) if count else 0) * k
            stops = torch.minimum(starts + k, n[:, None])
        elif mode == "event_count":
            k, overlap = int(spec.event_count), int(spec.overlap)  # type: ignore[arg-type]
            size, stride = torch.clamp(n, max=k), k - overlap
            rest = n - size
            lengths = (-(-rest // stride) if spec.include_incomplete else rest // stride) + 1
            starts = grid(int(lengths.max()) if count else 0) * stride
            stops = starts + size[:, None]
            starts, stops = torch.minimum(starts, n[:, None]), torch.minimum(stops, n[:, None])
        else:
            return self._timed(t, offsets, seg)
        valid = grid(starts.shape[1]) < lengths[:, None]
        first = seg.first[:, None]
        return torch.where(valid, starts + first, 0), torch.where(valid, stops + first, 0), lengths

    def _timed(self, t: torch.Tensor, offsets: torch.Tensor,
               seg: _Segments) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The modes whose boundaries are timestamps: ``time``, ``duration``, ``n_time_bins``, ``time_window``."""
        spec, search, n = self.spec, _Search(t, seg), seg.n
        device, count, empty = t.device, len(n), n == 0
        mode = spec.mode
        end = offsets[1:, None]

        def grid(frames: int) -> torch.Tensor:
            return torch.arange(frames, device=device, dtype=torch.int64)[None, :].expand(count, frames)

        if mode == "time":
            m = int(spec.frames)  # type: ignore[arg-type]
            bounds = search(seg.t0[:, None] + (seg.span // m)[:, None] * grid(m + 1))
            starts, stops = bounds[:, :-1], bounds[:, 1:].clone()
            stops[:, -1] = end[:, 0]
            lengths = torch.full_like(n, m)
        elif mode == "duration":
            d = int(spec.duration_us)  # type: ignore[arg-type]
            lengths = torch.where(empty, 1, torch.clamp(-(-seg.span // d), min=1))
            starts = search(seg.t0[:, None] + d * grid(int(lengths.max()) if count else 0))
            stops = torch.cat([starts[:, 1:], end], dim=1)
            stops = torch.where(grid(stops.shape[1]) == lengths[:, None] - 1, end, stops)
        elif mode == "n_time_bins":
            m, overlap = int(spec.n_time_bins), spec.overlap  # type: ignore[arg-type]
            window = (seg.span // m).double() * (1 + overlap)
            step = window * (1 - overlap)
            begin = grid(m).double() * step[:, None] + seg.t0[:, None].double()
            starts, stops = search(_ceil(begin)), search(_ceil(begin + window[:, None]))
            lengths = torch.full_like(n, m)
        else:  # time_window
            size, overlap = int(spec.time_window), spec.overlap  # type: ignore[arg-type]
            stride = size - overlap
            ratio = (seg.span - size).double() / stride
            lengths = torch.clamp((torch.ceil(ratio) if spec.include_incomplete else torch.floor(ratio)).long() + 1, min=1)
            lengths = torch.where(empty, 1, lengths)
            begin = grid(int(lengths.max()) if count else 0).double() * stride + seg.t0[:, None].double()
            starts, stops = search(_ceil(begin)), search(_ceil(begin + size))
        valid = grid(starts.shape[1]) < lengths[:, None]
        starts = torch.where(valid & ~empty[:, None], starts, 0)
        return starts, torch.where(valid & ~empty[:, None], stops, 0), lengths

    def __call__(self, batch: Sequence[torch.Tensor], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        t, x, y, p, offsets, labels = batch
        w, h, polarities = self.sensor_size
        if len(x) and (int(x.min()) < 0 or int(x.max()) >= w or int(y.min()) < 0 or int(y.max()) >= h):
            raise EventValidationError(f"Event coordinates outside the sensor {tuple(self.sensor_size)}: x in "
                                       f"[{int(x.min())}, {int(x.max())}], y in [{int(y.min())}, {int(y.max())}]; "
                                       "pass the dataset's sensor_size to TorchFrames.")
        starts, stops, lengths = self.slices(t, offsets)
        count, frames = starts.shape
        sizes = (stops - starts).reshape(-1)
        total = int(sizes.sum())
        plane = polarities * h * w
        # int32 indices where they fit: half the memory traffic of int64 per event
        itype = torch.int32 if max(frames * count * plane, len(t), total) < 2**31 else torch.int64
        pixel = y.to(itype) * w + x.to(itype)
        if polarities == 2:
            pixel = pixel + p.to(itype) * (h * w)
        slot = torch.arange(sizes.numel(), device=t.device, dtype=itype)  # (sample, frame) row-major, as starts
        base = ((slot % max(frames, 1)) * count + slot // max(frames, 1)) * plane  # where its frame lies in out
        shift = (starts.reshape(-1) - (torch.cumsum(sizes, 0) - sizes)).to(itype)  # event index - list position
        which = torch.repeat_interleave(slot, sizes, output_size=total)
        index = base[which] + pixel[torch.arange(total, device=t.device, dtype=itype) + shift[which]]
        out = torch.zeros(frames * count * plane, dtype=torch.float32, device=t.device)
        out.index_add_(0, index, torch.ones((), dtype=torch.float32, device=t.device).expand(total))
        out = out.reshape(frames, count, polarities, h, w)
        mask = torch.arange(frames, device=t.device)[:, None] < lengths[None, :]
        return out, labels, mask
