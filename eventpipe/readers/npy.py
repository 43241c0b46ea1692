"""NumPy event files: ``.npy`` structured arrays and ``.npz`` archives.

Accepted: a ``.npy`` structured array with fields t, x, y, p (eventpipe's :data:`EVENT_DTYPE`, tonic's
dtype, or any numeric field types); a ``.npz`` with one such array (key ``events`` or the only key), or
with separate ``t``, ``x``, ``y``, ``p`` arrays (SpikingJelly's event files). Pickled objects are never
loaded. ``.npy`` files are memory-mapped, so reading costs the output array only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eventpipe.errors import CorruptRecordingError, FormatError
from eventpipe.events import Events
from eventpipe.readers._columns import columns_to_events

NPY_MAGIC = b"\x93NUMPY"


def _from_array(path: Path, arr: np.ndarray) -> Events:
    names = arr.dtype.names or ()
    missing = [f for f in "txyp" if f not in names]
    if missing:
        raise FormatError(
            f"{path}: the array has dtype {arr.dtype}; expected a structured array with fields t, x, y, p "
            f"(missing {missing})"
        )
    return columns_to_events(path, arr["t"], arr["x"], arr["y"], arr["p"])


def read_npy(path: str | Path) -> Events:
    """Read events from a ``.npy`` or ``.npz`` file (see the module docstring for accepted layouts).

    Raises
    ------
    FormatError
        Not a NumPy file (an empty file included), or no t/x/y/p fields, or values that do not fit.
    CorruptRecordingError
        A truncated ``.npy`` payload or a damaged ``.npz`` archive.
    """
    path = Path(path)
    with path.open("rb") as f:
        head = f.read(6)
    try:
        if head == NPY_MAGIC:
            try:
                arr = np.load(path, mmap_mode="r", allow_pickle=False)
            except ValueError as exc:
                if "allow_pickle" in str(exc) or "object" in str(exc):
                    raise FormatError(f"{path}: holds Python objects; only numeric arrays are read") from None
                raise CorruptRecordingError(path, None, f"unreadable .npy payload: {exc}") from None
            return _from_array(path, arr)
        if head.startswith(b"PK"):
            with np.load(path, allow_pickle=False) as npz:
                keys = list(npz.keys())
                if all(k in keys for k in "txyp"):
                    return columns_to_events(path, *(npz[k] for k in "txyp"))
                key = "events" if "events" in keys else (keys[0] if len(keys) == 1 else None)
                if key is None:
                    raise FormatError(
                        f"{path}: .npz keys {keys}; expected 'events', a single array, or t, x, y, p arrays"
                    )
                return _from_array(path, npz[key])
    except FormatError:
        raise
    except Exception as exc:  # NumPy's header parser raises ValueError, SyntaxError, TokenError, BadZipFile, ...
        raise CorruptRecordingError(path, None, f"unreadable NumPy file: {exc}") from None
    raise FormatError(f"{path}: not a NumPy .npy/.npz file (no {NPY_MAGIC!r} or zip magic)")
