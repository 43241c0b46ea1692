"""MATLAB ``.mat`` events: ASL-DVS (``ts``, ``x``, ``y``, ``pol``) and ST-MNIST (``spiketrain``).

- ASL-DVS: columns ``ts`` (µs), ``x``, ``y``, ``pol`` are returned as stored. The dataset's y axis
  points up; flip it with ``y = 179 - y`` (DAVIS240, 180 rows) for the usual image orientation, as
  tonic's ``ASLDVS`` does. That is the dataset definition's job, not the file format's.
- ST-MNIST: ``spiketrain`` is ``(101, N)``: rows 0-99 are the 10 x 10 taxels, one ``±1`` per column,
  and row 100 is the time in seconds. Taxel ``a`` maps to ``x = a % 10``, ``y = a // 10``; ``-1`` is OFF.
  Times are rounded to the nearest µs.

MATLAB v7.3 files (HDF5 inside) are read with h5py; older versions with scipy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eventpipe.errors import CorruptRecordingError, FormatError
from eventpipe.events import Events
from eventpipe.readers._columns import columns_to_events, seconds_to_us

ASL_KEYS = ("ts", "x", "y", "pol")
STMNIST_KEY = "spiketrain"
STMNIST_TAXELS = 100
STMNIST_WIDTH = 10


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        head = f.read(128)
    if not head.startswith(b"MATLAB"):
        raise FormatError(f"{path}: not a MATLAB .mat file (it does not start with 'MATLAB')")
    if b"MATLAB 7.3" in head[:20]:
        import h5py

        try:
            with h5py.File(path, "r") as h5:
                return {k: np.asarray(h5[k]) for k in h5 if isinstance(h5[k], h5py.Dataset)}
        except Exception as exc:  # h5py raises OSError, KeyError, ... on damaged input
            raise CorruptRecordingError(path, None, f"unreadable MATLAB v7.3 file: {exc}") from None
    import scipy.io

    try:
        return dict(scipy.io.loadmat(path))
    except Exception as exc:  # scipy's parser raises many types on damaged input (zlib.error, MatReadError, ...)
        raise CorruptRecordingError(path, None, f"unreadable MATLAB file: {exc}") from None


def _stmnist(path: Path, train: np.ndarray) -> Events:
    if train.ndim != 2 or train.shape[0] != STMNIST_TAXELS + 1:
        raise FormatError(f"{path}: 'spiketrain' has shape {train.shape}; expected (101, N)")
    spikes = train[:STMNIST_TAXELS]
    event, taxel = np.nonzero(spikes.T)
    return columns_to_events(
        path,
        seconds_to_us(path, train[STMNIST_TAXELS][event], lambda i: f"spiketrain[{STMNIST_TAXELS}, {int(event[i])}] (time)"),
        taxel % STMNIST_WIDTH,
        taxel // STMNIST_WIDTH,
        spikes[taxel, event] > 0,
    )


def read_mat(path: str | Path) -> Events:
    """Read events from an ASL-DVS or ST-MNIST ``.mat`` file (see the module docstring).

    Raises
    ------
    FormatError
        Not a MATLAB file (an empty file included), or neither layout's variables are present.
    CorruptRecordingError
        The MATLAB file cannot be parsed (truncated or damaged), or an ST-MNIST time is NaN, infinite
        or negative.
    """
    path = Path(path)
    data = _load(path)
    if all(k in data for k in ASL_KEYS):
        return columns_to_events(path, *(data[k] for k in ASL_KEYS))
    if STMNIST_KEY in data:
        return _stmnist(path, np.asarray(data[STMNIST_KEY]))
    keys = sorted(k for k in data if not k.startswith("__"))
    raise FormatError(
        f"{path}: MATLAB variables {keys}; expected {list(ASL_KEYS)} (ASL-DVS) or {STMNIST_KEY!r} (ST-MNIST)"
    )
