"""AEDAT 2.0 (jAER) with the DVS128 address layout (CIFAR10-DVS): reader and writer.

Layout: text header lines starting with ``#`` (the first is ``#!AER-DAT2.0``), then big-endian
``(u32 address, u32 timestamp in µs)`` pairs. DVS128 addresses hold the raw column in bits 1-7, the raw
row in bits 8-14 and the polarity in bit 0 (``1`` = OFF in jAER); bit 15 marks external (sync)
events, which are skipped.

Coordinates follow SpikingJelly's CIFAR10-DVS loader, so frames match models trained with it:
``x = 127 - ((addr >> 8) & 0x7F)``, ``y = 127 - ((addr >> 1) & 0x7F)``, ``p = 1 - (addr & 1)`` (ON = 1, as
in jAER's DVS128 extractor). tonic's ``read_dvs_128`` takes the same bit fields without the flips, i.e.
its images are rotated by 180° and its polarity is inverted relative to these.

Timestamps are unsigned 32-bit; a backward jump of more than ``2**31`` µs is taken as a wrap of the
32-bit counter and unwrapped. Any other backward step (a jAER timestamp reset) is kept and the events
are stable-sorted by ``t``. Addresses with bits above 15 set (DAVIS and other chips) are rejected
rather than decoded into wrong pixels. A header with no events after it is zero events.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit

from eventpipe.errors import EventValidationError, FormatError
from eventpipe.events import Events, as_events, check_in_sensor, check_sorted
from eventpipe.readers._bytes import emit, u32be, unwrap_u32
from eventpipe.readers._header import read_comment_lines
from eventpipe.readers._stream import NEED_INPUT, ChunkDecoder, decode_file

MAGIC = b"#!AER-DAT2"
EVENT_BYTES = 8
SIZE = 128
EXTERNAL_BIT = 0x8000

_NOT_DVS128 = 2
_ERRORS = {_NOT_DVS128: "address {arg:#x} does not fit the DVS128 layout (bits above 15 set); "
                        "only DVS128 AEDAT 2.0 recordings are supported"}


@njit(nogil=True, cache=False)
def _decode_dvs128(buf, out, pos, state):  # noqa: ANN001, ANN202 - Numba kernel
    n = (buf.size // EVENT_BYTES) * EVENT_BYTES
    last = state[0]
    unsorted = state[1]
    epoch = state[2]
    prev = state[3]
    status = NEED_INPUT
    arg = EVENT_BYTES if buf.size > n else 0
    i = 0
    while i < n:
        addr = u32be(buf, i)
        if addr > 0xFFFF:
            status = _NOT_DVS128
            arg = addr
            break
        raw = u32be(buf, i + 4)
        epoch = unwrap_u32(raw, prev, epoch)
        prev = raw
        if not addr & EXTERNAL_BIT:
            x, y = 127 - ((addr >> 8) & 0x7F), 127 - ((addr >> 1) & 0x7F)
            pos, last, unsorted = emit(out, pos, epoch + raw, x, y, 1 - (addr & 1), last, unsorted)
        i += EVENT_BYTES
    state[0] = last
    state[1] = unsorted
    state[2] = epoch
    state[3] = prev
    return i, pos, status, arg


def read_header(path: str | Path) -> tuple[list[str], int]:
    """Header lines (decoded, without line endings) and the byte offset of the first event.

    Raises
    ------
    FormatError
        The file does not start with ``#!AER-DAT2`` (an empty file included).
    """
    path = Path(path)
    with path.open("rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise FormatError(f"{path}: not an AEDAT 2.0 file (it does not start with {MAGIC.decode()!r})")
        f.seek(0)
        lines, start, _ = read_comment_lines(f, path, b"#")
    return [ln.decode("latin-1") for ln in lines], start


def read_aedat2(path: str | Path) -> Events:
    """Read a DVS128 AEDAT 2.0 (jAER) recording, e.g. one CIFAR10-DVS sample.

    Returns
    -------
    Events sorted by ``t`` (µs), ``x``, ``y`` in [0, 127] (SpikingJelly's orientation), ``p`` 1 = ON.

    Raises
    ------
    FormatError
        Wrong magic (an empty file included).
    CorruptRecordingError
        A partial final event, or an address that is not a DVS128 address; names the byte offset.
    """
    _, start = read_header(path)
    decoder = ChunkDecoder(_decode_dvs128, record="8-byte event", bytes_per_event=EVENT_BYTES,
                           errors=_ERRORS, n_state=4)
    return decode_file(path, start, decoder)


def write_aedat2(path: str | Path, events: Events) -> Path:
    """Write DVS128 events as AEDAT 2.0 (the inverse of :func:`read_aedat2`); returns the path.

    ``events`` must be sorted with ``0 <= t < 2**32`` µs, ``x``, ``y`` in [0, 127] and ``p`` in {0, 1}.
    """
    ev = as_events(events)
    check_sorted(ev)
    check_in_sensor(ev, (SIZE, SIZE, 2))
    t = ev["t"]
    if len(t) and (t[0] < 0 or t[-1] >= 1 << 32):
        raise EventValidationError(
            f"field t must lie in [0, 2**32) µs for AEDAT 2.0; got range [{int(t[0])}, {int(t[-1])}]."
        )
    records = np.empty(len(ev), dtype=[("addr", ">u4"), ("ts", ">u4")])
    records["addr"] = (
        ((SIZE - 1 - ev["x"].astype(np.uint32)) << 8) | ((SIZE - 1 - ev["y"].astype(np.uint32)) << 1)
        | (1 - ev["p"].astype(np.uint32))
    )
    records["ts"] = t
    header = [
        b"#!AER-DAT2.0",
        b"# This is a raw AE data file - do not edit",
        b"# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event",
        b"# Timestamps tick is 1 us",
        b"# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128",
    ]
    path = Path(path)
    with path.open("wb") as f:
        f.write(b"".join(line + b"\r\n" for line in header))
        f.write(records.data)
    return path
