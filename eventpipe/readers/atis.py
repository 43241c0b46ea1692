"""ATIS 40-bit events (N-MNIST, N-Caltech101 ``.bin``; SLAYER's ``.bs2`` uses the same bytes): reader and writer.

Each event is 5 bytes, no header: byte 0 = x, byte 1 = y, bit 7 of byte 2 = polarity, and a 23-bit
timestamp in µs = ``(byte2 & 0x7F) << 16 | byte3 << 8 | byte4``. An event with ``y == 240`` is not an
event but a timestamp-overflow marker: every later event gets ``2**13`` µs added per marker seen
(the convention of the datasets' original MATLAB reader, followed by tonic and SpikingJelly). Markers
are dropped. An empty file is zero events.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit

from eventpipe.errors import EventValidationError
from eventpipe.events import Events, as_events, check_sorted
from eventpipe.readers._bytes import emit
from eventpipe.readers._stream import NEED_INPUT, ChunkDecoder, decode_file

EVENT_BYTES = 5
OVERFLOW_Y = 240
OVERFLOW_US = 1 << 13
TS_BITS = 23


@njit(nogil=True, cache=False)
def _decode_atis(buf, out, pos, state):  # noqa: ANN001, ANN202 - Numba kernel
    n = (buf.size // EVENT_BYTES) * EVENT_BYTES
    last = state[0]
    unsorted = state[1]
    offset = state[2]
    for i in range(0, n, EVENT_BYTES):
        yy = buf[i + 1]
        if yy == OVERFLOW_Y:
            offset += OVERFLOW_US
            continue
        b2 = np.int64(buf[i + 2])
        tt = offset + (((b2 & 0x7F) << 16) | (np.int64(buf[i + 3]) << 8) | np.int64(buf[i + 4]))
        pos, last, unsorted = emit(out, pos, tt, buf[i], yy, b2 >> 7, last, unsorted)
    state[0] = last
    state[1] = unsorted
    state[2] = offset
    return n, pos, NEED_INPUT, EVENT_BYTES if buf.size > n else 0


def read_atis(path: str | Path) -> Events:
    """Read an ATIS 40-bit file (``.bin``, ``.bs2``).

    Returns
    -------
    Events sorted by ``t`` (µs from the start of the recording), ``x``, ``y`` in pixels, ``p`` 1 = ON.

    Raises
    ------
    CorruptRecordingError
        The file size is not a multiple of 5 bytes (truncated); names the offset of the partial event.
    """
    decoder = ChunkDecoder(_decode_atis, record="40-bit event", bytes_per_event=EVENT_BYTES, errors={}, n_state=3)
    return decode_file(path, 0, decoder)


def encode_atis(events: Events) -> np.ndarray:
    """The bytes (uint8 array) of ``events`` in the 40-bit layout, with overflow markers inserted.

    Each event gets the fewest markers before it that bring its timestamp below ``2**23`` µs, so
    ``t`` must be sorted (µs, ``>= 0``); ``x < 256``, ``y < 240`` (240 is the marker), ``p`` in {0, 1}.
    """
    ev = as_events(events)
    check_sorted(ev)
    for field, limit in (("x", 256), ("y", OVERFLOW_Y), ("p", 2)):
        bad = np.flatnonzero(ev[field] >= limit)
        if len(bad):
            i = int(bad[0])
            raise EventValidationError(
                f"field {field} out of range for ATIS: {field}[{i}] = {ev[field][i]}, valid range is [0, {limit - 1}]."
            )
    t = ev["t"]
    if len(t) and t[0] < 0:
        raise EventValidationError(f"field t must be >= 0 µs for ATIS; got t[0] = {int(t[0])}.")
    # markers needed before event i so that t[i] - markers * 2**13 < 2**23
    markers = np.maximum(0, -((-(t - ((1 << TS_BITS) - 1))) // OVERFLOW_US)).astype(np.int64)
    slot = np.arange(len(t), dtype=np.int64) + markers  # row of event i after insertion
    rows = np.zeros((len(t) + (int(markers[-1]) if len(t) else 0), EVENT_BYTES), dtype=np.uint8)
    is_marker = np.ones(len(rows), dtype=bool)
    is_marker[slot] = False
    rows[is_marker, 1] = OVERFLOW_Y
    ts = t - markers * OVERFLOW_US
    rows[slot, 0] = ev["x"]
    rows[slot, 1] = ev["y"]
    rows[slot, 2] = ((ts >> 16) & 0x7F) | (ev["p"].astype(np.int64) << 7)
    rows[slot, 3] = (ts >> 8) & 0xFF
    rows[slot, 4] = ts & 0xFF
    return rows.reshape(-1)


def write_atis(path: str | Path, events: Events) -> Path:
    """Write ``events`` as an ATIS 40-bit file (the inverse of :func:`read_atis`); returns the path.

    See :func:`encode_atis` for the value ranges. Timestamps above ``2**23`` µs use overflow markers.
    """
    path = Path(path)
    encode_atis(events).tofile(path)
    return path
