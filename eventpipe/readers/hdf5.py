"""HDF5 events: single-sample files with t/x/y/p datasets, and SHD/SSC files holding many samples.

- Single sample (:func:`read_hdf5`): datasets ``t``, ``x``, ``y``, ``p`` at the root or in an ``events``
  group (``t`` in µs; DSEC's layout with its ``t_offset`` included), or an SHD-layout file with
  exactly one sample.
- SHD / SSC (:func:`read_hdf5_samples`): ``spikes/times`` (variable-length float seconds per sample),
  ``spikes/units`` (variable-length channel ids), ``labels``; optional per-sample ``extra/*`` arrays
  (e.g. ``extra/speaker``) are returned as metadata. Times become int64 µs rounded to the nearest µs,
  ``x`` = unit, ``y = 0``, ``p = 0``; a time that is NaN, infinite, negative or too large for int64 µs
  is an error naming the sample, never a wrapped-around number.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from eventpipe.errors import CorruptRecordingError, EventpipeError, FormatError, MissingDependencyError
from eventpipe.events import EVENT_DTYPE, Events
from eventpipe.readers._columns import check_times, columns_to_events, seconds_to_us, sort_by_time

MAGIC = b"\x89HDF\r\n\x1a\n"
CHUNK_EVENTS = 1 << 22
"""Events read per slice of a single-sample dataset (bounded memory for big files)."""
SAMPLES_PER_BLOCK = 1024
"""SHD samples read per block of the variable-length datasets."""
_INT64_MAX = np.iinfo(np.int64).max


class HDF5Samples(NamedTuple):
    """Every sample of a many-sample HDF5 file, concatenated.

    Attributes
    ----------
    events:
        All samples' events back to back; sample ``i`` is ``events[offsets[i]:offsets[i + 1]]``, each
        sorted by ``t``.
    offsets:
        int64 array of ``n + 1`` start offsets.
    labels:
        int64 array of ``n`` labels.
    meta:
        Per-sample metadata columns (``extra/<name>`` datasets of length ``n``), e.g. ``speaker``.
    """

    events: Events
    offsets: np.ndarray
    labels: np.ndarray
    meta: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def sample(self, i: int) -> Events:
        """The events of sample ``i``."""
        return self.events[self.offsets[i] : self.offsets[i + 1]]


def _open(path: Path) -> Any:
    with path.open("rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise FormatError(f"{path}: not an HDF5 file (no HDF5 signature at byte 0)")
    import h5py

    with contextlib.suppress(ImportError):
        import hdf5plugin  # noqa: F401 - registers Blosc, Zstd, ... filters with h5py (DSEC uses Blosc)

    try:
        return h5py.File(path, "r")
    except Exception as exc:  # h5py raises OSError, ValueError, ... on damaged input
        raise CorruptRecordingError(path, None, f"unreadable HDF5 file: {exc}") from None


def _data_error(path: Path, exc: Exception) -> EventpipeError:
    """The error for an exception h5py raised while reading data."""
    text = str(exc)
    # an absent filter, not a failing one: "filter returned failure" is damaged compressed data
    if isinstance(exc, OSError) and any(m in text for m in ("plugin", "can't open directory", "not registered")):
        return MissingDependencyError(
            f"{path}: its datasets are compressed with an HDF5 filter h5py lacks (DSEC files use Blosc); "
            f"pip install hdf5plugin, then read it again ({text})"
        )
    return CorruptRecordingError(path, None, f"unreadable HDF5 data: {text}")


def _is_shd(h5: Any) -> bool:
    return "spikes" in h5 and "times" in h5["spikes"] and "units" in h5["spikes"]


def _shd_block(path: Path, times: np.ndarray, units: np.ndarray, first: int) -> tuple[Events, np.ndarray]:
    """Events (unsorted within samples) and per-sample counts of one block of SHD samples."""
    counts = np.fromiter((len(a) for a in times), dtype=np.int64, count=len(times))
    unit_counts = np.fromiter((len(a) for a in units), dtype=np.int64, count=len(units))
    if not np.array_equal(counts, unit_counts):
        i = int(np.flatnonzero(counts != unit_counts)[0])
        raise FormatError(f"{path}: sample {first + i} has {counts[i]} spike times but {unit_counts[i]} units")
    flat_t = np.concatenate([np.asarray(a, dtype=np.float64) for a in times]) if len(times) else np.zeros(0)
    flat_u = np.concatenate([np.asarray(a) for a in units]) if len(units) else np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)

    def where(i: int) -> str:
        s = int(np.searchsorted(ends, i, side="right"))
        return f"spikes/times of sample {first + s}, spike {i - int(ends[s] - counts[s])}"

    zeros = np.zeros(len(flat_t), dtype=np.uint8)
    return columns_to_events(path, seconds_to_us(path, flat_t, where), flat_u, zeros, zeros, sort=False), counts


def _read_shd(path: Path, h5: Any) -> tuple[Events, np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    times_ds, units_ds = h5["spikes"]["times"], h5["spikes"]["units"]
    n = len(times_ds)
    if len(units_ds) != n:
        raise FormatError(f"{path}: spikes/times has {n} samples but spikes/units has {len(units_ds)}")
    parts, block_counts = [], []
    for a in range(0, n, SAMPLES_PER_BLOCK):  # bounded memory: one block of variable-length rows at a time
        part, c = _shd_block(path, times_ds[a : a + SAMPLES_PER_BLOCK], units_ds[a : a + SAMPLES_PER_BLOCK], a)
        parts.append(part)
        block_counts.append(c)
    events = np.concatenate(parts) if parts else np.zeros(0, dtype=EVENT_DTYPE)
    counts = np.concatenate(block_counts) if block_counts else np.zeros(0, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    t = events["t"]
    step_back = t[1:] < t[:-1]
    starts = offsets[1:-1]
    step_back[starts[(starts > 0) & (starts < len(t))] - 1] = False  # a new sample may start earlier
    if np.any(step_back):  # one stable sort by (sample, t) for the whole file
        sample = np.repeat(np.arange(n, dtype=np.int64), counts)
        events = events[np.lexsort((t, sample))]
    labels = np.asarray(h5["labels"][()], dtype=np.int64).reshape(-1) if "labels" in h5 else None
    if labels is not None and len(labels) != n:
        raise FormatError(f"{path}: {len(labels)} labels for {n} samples")
    meta: dict[str, np.ndarray] = {}
    if "extra" in h5:
        for name, ds in h5["extra"].items():
            if getattr(ds, "shape", None) == (n,):
                meta[name] = np.asarray(ds[()])
    return events, offsets, labels, meta


def read_hdf5_samples(path: str | Path) -> HDF5Samples:
    """Read every sample of an SHD/SSC-layout HDF5 file at once (vectorised; no loop per event).

    Returns
    -------
    :class:`HDF5Samples`: concatenated events (``t`` µs, ``x`` = channel, ``y = p = 0``), offsets,
    labels and per-sample metadata.

    Raises
    ------
    FormatError
        Not HDF5 (an empty file included), or not the SHD layout.
    CorruptRecordingError
        h5py cannot open the file (truncated or damaged), or a spike time is NaN, infinite, negative or
        beyond the int64 µs range (the sample and spike are named).
    """
    path = Path(path)
    with _open(path) as h5:
        if not _is_shd(h5):
            raise FormatError(f"{path}: no spikes/times and spikes/units datasets (SHD layout); keys {list(h5)}")
        try:
            events, offsets, labels, meta = _read_shd(path, h5)
        except EventpipeError:
            raise
        except Exception as exc:  # h5py raises OSError, KeyError, TypeError, ... on damaged input
            raise _data_error(path, exc) from None
    if labels is None:
        raise FormatError(f"{path}: no 'labels' dataset next to spikes/times")
    return HDF5Samples(events, offsets, labels, meta)


def _find_columns(h5: Any) -> Any:
    for group in (h5, h5.get("events")):
        if group is not None and hasattr(group, "keys") and all(k in group for k in "txyp"):
            return group
    return None


def _t_offset(path: Path, h5: Any, group: Any) -> int:
    """The ``t_offset`` scalar (µs) in the events group or at the root; 0 when there is none."""
    for where in (group, h5):
        if "t_offset" in where:
            value = np.asarray(where["t_offset"][()])
            if value.size != 1 or value.dtype.kind not in "iu":
                raise FormatError(
                    f"{path}: t_offset has dtype {value.dtype} and shape {value.shape}; expected one integer (µs)"
                )
            return int(value.reshape(-1)[0])
    return 0


def _read_columns(path: Path, h5: Any, group: Any) -> Events:
    """The t/x/y/p datasets of ``group`` (plus ``t_offset``), read :data:`CHUNK_EVENTS` at a time."""
    lengths = {k: len(group[k]) for k in "txyp"}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{group[k].name} {n}" for k, n in lengths.items())
        raise FormatError(f"{path}: the event datasets have different lengths ({shown}); each event needs t, x, y, p")
    offset = _t_offset(path, h5, group)
    n = lengths["t"]
    out = np.empty(n, dtype=EVENT_DTYPE)
    for a in range(0, n, CHUNK_EVENTS):
        part = out[a : a + CHUNK_EVENTS]
        columns_to_events(path, *(group[k][a : a + CHUNK_EVENTS] for k in "txyp"), sort=False, out=part)
        if offset:
            t = part["t"]
            if offset > 0 and int(t.max()) > _INT64_MAX - offset:
                raise CorruptRecordingError(path, None, f"t + t_offset ({offset} µs) is beyond the int64 µs range")
            t += offset  # a negative result is reported by check_times
    return out


def read_hdf5(path: str | Path) -> Events:
    """Read one sample from an HDF5 file (t/x/y/p datasets, or the SHD layout with one sample).

    Column files (DSEC's ``events/{t,x,y,p}`` included) are read :data:`CHUNK_EVENTS` events at a time
    into the output array, so memory holds the events plus one slice of the datasets. A ``t_offset``
    scalar (µs) in the events group or at the root is added to every ``t``, as DSEC stores absolute
    times; DSEC's ``ms_to_idx`` index is not needed to read the whole recording and is ignored.
    Datasets compressed with Blosc (DSEC) or another plugin filter need the ``hdf5plugin`` package,
    which is used when installed.

    Returns
    -------
    Events sorted by ``t`` (µs).

    Raises
    ------
    FormatError
        Not HDF5 (an empty file included), no t/x/y/p datasets, datasets of different lengths, a
        ``t_offset`` that is not one integer, or an SHD file with several samples (use
        :func:`read_hdf5_samples`).
    CorruptRecordingError
        h5py cannot read the file (truncated or damaged), or ``t + t_offset`` is negative or beyond int64.
    MissingDependencyError
        The datasets use a compression filter h5py lacks (install ``hdf5plugin``).
    """
    path = Path(path)
    with _open(path) as h5:
        try:
            group = _find_columns(h5)
            if group is None:
                if _is_shd(h5):
                    n = len(h5["spikes"]["times"])
                    if n != 1:
                        raise FormatError(
                            f"{path}: holds {n} samples (SHD layout); read it with read_hdf5_samples()"
                        )
                    return _read_shd(path, h5)[0]
                raise FormatError(
                    f"{path}: no t, x, y, p datasets (at the root or in 'events') and no SHD spikes group; "
                    f"keys {list(h5)}"
                )
            events = _read_columns(path, h5, group)
        except EventpipeError:
            raise
        except Exception as exc:  # h5py raises OSError, KeyError, TypeError, ... on damaged input
            raise _data_error(path, exc) from None
    return check_times(path, sort_by_time(events))
