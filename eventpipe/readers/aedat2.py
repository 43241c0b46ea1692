"""AEDAT 2.0 (jAER): reader for every common jAER camera (DVS128, DAVIS, DVXplorer), DVS128 writer.

Layout: text header lines starting with ``#`` (the first is ``#!AER-DAT2.0``, the last, when jAER
writes one, ``#End Of ASCII Header``), then big-endian ``(u32 address, u32 timestamp in µs)`` pairs.
The camera comes from the header's ``# AEChip: <java class>`` line (:mod:`eventpipe.readers.jaer` has
the table, the DAVIS address layout and its orientation); ``chip=`` overrides it and reads files
without a header. A header without an ``AEChip`` line is a DVS128 (CIFAR10-DVS).

DVS128 addresses hold the raw column in bits 1-7, the raw row in bits 8-14 and the polarity in bit 0
(``1`` = OFF in jAER); bit 15 marks external (sync) events, which are skipped. Coordinates follow
SpikingJelly's CIFAR10-DVS loader, so frames match models trained with it:
``x = 127 - ((addr >> 8) & 0x7F)``, ``y = 127 - ((addr >> 1) & 0x7F)``, ``p = 1 - (addr & 1)`` (ON = 1, as
in jAER's DVS128 extractor). tonic's ``read_dvs_128`` takes the same bit fields without the flips, i.e.
its images are rotated by 180° and its polarity is inverted relative to these. A DVS128 address with
bits above 15 set is rejected rather than decoded into wrong pixels.

DAVIS and DVXplorer words: DVS events are decoded; APS samples, IMU words and external (special)
events are skipped and counted (:func:`inspect_aedat2`). A DVS address outside the chip's sensor is
rejected.

Timestamps are unsigned 32-bit; a backward jump of more than ``2**31`` µs is taken as a wrap of the
32-bit counter and unwrapped. Any other backward step (a jAER timestamp reset) is kept and the events
are stable-sorted by ``t``. A header with no events after it is zero events.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit

from eventpipe.errors import EventValidationError, FormatError
from eventpipe.events import Events, as_events, check_in_sensor, check_sorted
from eventpipe.readers._bytes import emit, u32be, unwrap_u32
from eventpipe.readers._header import read_comment_lines
from eventpipe.readers._recording import Recording
from eventpipe.readers._stream import NEED_INPUT, ChunkDecoder, decode_file
from eventpipe.readers.jaer import (
    APS_BIT,
    CHIPS,
    DVS128_LAYOUT,
    IMU_BITS,
    SPECIAL_BIT,
    Chip,
    chip_for_class,
    get_chip,
    header_chip_class,
)

MAGIC = b"#!AER-DAT2"
END_HEADER = b"#End Of ASCII Header"
EVENT_BYTES = 8
SIZE = 128
EXTERNAL_BIT = 0x8000

_NOT_DVS128 = 2
_OUTSIDE = 3

# decoder state: 0-3 as in _stream plus the timestamp epoch and previous raw timestamp; 4-8 the chip;
# 9-12 the counts of DVS events, APS samples, IMU samples and special events
_CHIP = 4
_COUNTS = 9
_N_STATE = 13
COUNT_NAMES = ("dvs_events", "aps_samples", "imu_samples", "special_events")


@njit(nogil=True, cache=False)
def _decode(buf, out, pos, state):  # noqa: ANN001, ANN202 - Numba kernel
    n = (buf.size // EVENT_BYTES) * EVENT_BYTES
    last, unsorted, epoch, prev = state[0], state[1], state[2], state[3]
    dvs128 = state[_CHIP] == DVS128_LAYOUT
    width, height, flip_x, flip_y = state[_CHIP + 1], state[_CHIP + 2], state[_CHIP + 3], state[_CHIP + 4]
    n_dvs, n_aps, n_imu, n_special = state[_COUNTS], state[_COUNTS + 1], state[_COUNTS + 2], state[_COUNTS + 3]
    status = NEED_INPUT
    arg = EVENT_BYTES if buf.size > n else 0
    rx = ry = 0
    i = 0
    while i < n:
        addr = u32be(buf, i)
        if dvs128:
            if addr > 0xFFFF:
                status = _NOT_DVS128
                arg = addr
                break
        elif not addr & (APS_BIT | SPECIAL_BIT):
            rx, ry = (addr >> 12) & 0x3FF, (addr >> 22) & 0x1FF
            if rx >= width or ry >= height:
                status = _OUTSIDE
                arg = addr
                break
        raw = u32be(buf, i + 4)
        epoch = unwrap_u32(raw, prev, epoch)
        prev = raw
        if dvs128:
            if addr & EXTERNAL_BIT:
                n_special += 1
            else:
                x, y = 127 - ((addr >> 8) & 0x7F), 127 - ((addr >> 1) & 0x7F)
                pos, last, unsorted = emit(out, pos, epoch + raw, x, y, 1 - (addr & 1), last, unsorted)
                n_dvs += 1
        elif addr & APS_BIT:
            if addr & IMU_BITS == IMU_BITS:  # IMU word; a sample's first word has code 0 in bits 28-30
                if not (addr >> 28) & 7:
                    n_imu += 1
            else:
                n_aps += 1
        elif addr & SPECIAL_BIT:
            n_special += 1
        else:
            x = width - 1 - rx if flip_x else rx
            y = height - 1 - ry if flip_y else ry
            pos, last, unsorted = emit(out, pos, epoch + raw, x, y, (addr >> 11) & 1, last, unsorted)
            n_dvs += 1
        i += EVENT_BYTES
    state[0], state[1], state[2], state[3] = last, unsorted, epoch, prev
    state[_COUNTS], state[_COUNTS + 1], state[_COUNTS + 2], state[_COUNTS + 3] = n_dvs, n_aps, n_imu, n_special
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
        lines, start, _ = read_comment_lines(f, path, b"#", stop=END_HEADER)
    return [ln.decode("latin-1") for ln in lines], start


def _given_chip(path: Path, chip: str) -> tuple[Chip, str, int]:
    """The named chip, the camera's description and the offset of the first event (0 without a header)."""
    given = get_chip(chip)
    with path.open("rb") as f:
        head = f.read(len(MAGIC))
    if head == MAGIC:
        start = read_header(path)[1]
    elif head.startswith(b"#"):
        raise FormatError(f"{path}: not an AEDAT 2.0 file (a '#' text header without {MAGIC.decode()!r})")
    else:
        start = 0  # a headerless stream of 8-byte records
    return given, f"{given.title} (chip={chip!r})", start


def _header_chip(path: Path) -> tuple[Chip, str, int]:
    """The chip named by the header, the camera's description and the offset of the first event."""
    lines, start = read_header(path)
    java_class = header_chip_class(lines)
    if java_class is None:
        return CHIPS["dvs128"], "DVS128 (no AEChip header line)", start
    named = chip_for_class(java_class)
    if named is None:
        raise FormatError(
            f"{path}: the header names jAER chip {java_class!r}, whose address layout is not known; "
            f"pass chip= (--chip on the command line), one of {{{', '.join(CHIPS)}}}."
        )
    return named, f"{named.title} (AEChip {java_class})", start


def inspect_aedat2(path: str | Path, *, chip: str | None = None) -> Recording:
    """Read an AEDAT 2.0 recording with its camera, sensor size and the count of each word type.

    Parameters
    ----------
    path:
        A jAER ``.aedat`` file (or, with ``chip``, a headerless stream of its 8-byte records).
    chip:
        A short chip name (``dvs128``, ``davis240``, ``davis346``, ``davis128``, ``davis208``,
        ``davis640``, ``dvxplorer``) or jAER class name; overrides the header's ``AEChip`` line.

    Returns
    -------
    A :class:`~eventpipe.readers._recording.Recording`: the DVS events (sorted by ``t``, µs) and the
    counts ``dvs_events``, ``aps_samples``, ``imu_samples`` (7 words each; both only for the DAVIS
    layout) and ``special_events``.

    Raises
    ------
    FormatError
        Wrong magic (an empty file included) without ``chip``, or a header naming an unknown chip.
    UnknownNameError
        ``chip`` is not a known chip.
    CorruptRecordingError
        A partial final event, or an address that does not fit the chip; names the byte offset.
    """
    path = Path(path)
    resolved, camera, start = _header_chip(path) if chip is None else _given_chip(path, chip)
    size = f"{resolved.width}x{resolved.height}"
    errors = {
        _NOT_DVS128: "address {arg:#x} does not fit the DVS128 layout (bits above 15 set); "
                     "pass chip= (--chip) if the recording is from another camera",
        _OUTSIDE: f"DVS address {{arg:#x}} lies outside the {resolved.title}'s {size} sensor; "
                  "pass chip= (--chip) if the recording is from another camera",
    }
    decoder = ChunkDecoder(_decode, record="8-byte event", bytes_per_event=EVENT_BYTES, errors=errors,
                           n_state=_N_STATE)
    decoder.state[_CHIP:_COUNTS] = (resolved.layout, resolved.width, resolved.height, resolved.flip_x,
                                    resolved.flip_y)
    events = decode_file(path, start, decoder)
    counts = dict(zip(COUNT_NAMES, (int(v) for v in decoder.state[_COUNTS:]), strict=True))
    if resolved.layout == DVS128_LAYOUT:  # no APS or IMU words in this layout
        counts = {k: counts[k] for k in ("dvs_events", "special_events")}
    return Recording(events, "aedat2", camera, (resolved.width, resolved.height), counts)


def read_aedat2(path: str | Path, *, chip: str | None = None) -> Events:
    """Read the DVS events of an AEDAT 2.0 (jAER) recording, e.g. one CIFAR10-DVS sample.

    Parameters
    ----------
    path:
        A jAER ``.aedat`` file.
    chip:
        Overrides the header's camera; required for a file without a header (:func:`inspect_aedat2`).

    Returns
    -------
    Events sorted by ``t`` (µs), ``x``, ``y`` in the chip's sensor (image rows, see the module
    docstring for DVS128), ``p`` 1 = ON.

    Raises
    ------
    FormatError
        Wrong magic (an empty file included), or an unknown chip in the header.
    CorruptRecordingError
        A partial final event, or an address that does not fit the chip; names the byte offset.
    """
    return inspect_aedat2(path, chip=chip).events


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
