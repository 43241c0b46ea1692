"""AEDAT 3.1 (cAER; DVS128 Gesture, DAVIS cameras): reader and writer.

Layout: text header lines starting with ``#`` (the first is ``#!AER-DAT3.1``) ending with the line
``#!END-HEADER``, then packets. Each packet is a 28-byte little-endian header (eventType i16,
eventSource i16, eventSize i32, eventTSOffset i32, eventTSOverflow i32, eventCapacity i32,
eventNumber i32, eventValid i32) followed by ``eventNumber`` events of ``eventSize`` bytes.
Polarity packets (type 1) hold ``u32 data`` (bit 0 valid, bit 1 polarity, bits 2-16 y, bits 17-31 x)
and an ``i32`` timestamp at ``eventTSOffset``; the timestamp in µs is
``(eventTSOverflow << 31) | timestamp`` (the overflow raised to the floor that timestamp wraps set, below).
Events whose valid bit is 0 are skipped.

Frame (type 2), IMU (types 3 and 4), special (type 0) and other packets are skipped and counted
(:func:`inspect_aedat3`). Special events (``u32 data``: bit 0 valid, bits 1-7 the type, then an ``i32``
timestamp) of type ``TIMESTAMP_WRAP`` (0) mean the 31-bit timestamp counter wrapped: later packets
get at least one more overflow than the wrapping packet, even where a writer left
``eventTSOverflow`` unchanged (cAER itself raises it, and the two agree). ``TIMESTAMP_RESET`` (1)
drops that floor back to 0 (the camera's clock restarted); events from before a reset keep their times
and the events are sorted.

The sensor size comes from the header where given: cAER names a camera's chip on its source line
(``#Source 1: DAVIS240C``), and a recording replayed from a file and written again has
``#Source 1: File,dvsSizeX=240,dvsSizeY=180,...`` followed by ``#-Source 1: DAVIS240C``. The
``dvsSizeX``/``dvsSizeY`` entries win; else the size is that of the named chip.

Events come out sorted by ``t``; packets are stable-sorted only if a file's packets are out of
order (cAER writes them in order, so this is rare and costs one pass to detect).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numba import njit

from eventpipe.errors import ConfigError, CorruptRecordingError, EventValidationError, FormatError
from eventpipe.events import Events, as_events, check_in_sensor, check_sorted
from eventpipe.readers._bytes import emit, i16le, i32le, u32le
from eventpipe.readers._header import read_comment_lines
from eventpipe.readers._recording import Recording
from eventpipe.readers._stream import NEED_INPUT, NEED_OUTPUT, ChunkDecoder, decode_file

MAGIC = b"#!AER-DAT3"
END_HEADER = b"#!END-HEADER"
PACKET_HEADER_BYTES = 28
POLARITY_EVENT = 1
POLARITY_EVENT_BYTES = 8

_PACKET_HEADER = np.dtype([
    ("eventType", "<i2"), ("eventSource", "<i2"), ("eventSize", "<i4"), ("eventTSOffset", "<i4"),
    ("eventTSOverflow", "<i4"), ("eventCapacity", "<i4"), ("eventNumber", "<i4"), ("eventValid", "<i4"),
])
_POLARITY = np.dtype([("data", "<u4"), ("ts", "<i4")])

_SOURCE = re.compile(r"^#(-?)\s*Source\s+\d+:\s*(.*)$")
_CAMERA_SIZES = tuple((re.compile(pattern, re.IGNORECASE), size) for pattern, size in (
    (r"DVXPLORER[\s_-]*LITE", (320, 240)), (r"DVXPLORER", (640, 480)), (r"DAVIS[\s_-]*240", (240, 180)),
    (r"DAVIS[\s_-]*346", (346, 260)), (r"DAVIS[\s_-]*128", (128, 128)), (r"DAVIS[\s_-]*208", (208, 192)),
    (r"DAVIS[\s_-]*640", (640, 480)), (r"DVS[\s_-]*128", (128, 128)),
))

SPECIAL_EVENT = 0
FRAME_EVENT = 2
IMU6_EVENT = 3
IMU9_EVENT = 4
TIMESTAMP_WRAP = 0
TIMESTAMP_RESET = 1

_BAD_HEADER = 2
_BAD_EVENT_SIZE = 3
_BAD_TIMESTAMP = 4

_ERRORS = {
    _BAD_HEADER: "invalid packet header (event size, timestamp offset, overflow or counts out of range; event size {arg})",
    _BAD_EVENT_SIZE: "polarity or special packet with event size {arg} bytes (at least 8 expected)",
    _BAD_TIMESTAMP: "negative polarity event timestamp {arg} (timestamps are 31-bit)",
}

# decoder state: 0-1 as in _stream, 2 the overflow floor set by TIMESTAMP_WRAP events, 3-7 the counts
_FLOOR = 2
_COUNTS = 3
_N_STATE = 8
COUNT_NAMES = ("dvs_events", "aps_frames", "imu_samples", "special_events", "other_events")


@njit(nogil=True, cache=False)
def _polarity_bytes(buf, out, pos, j, number, esize, tsoff, high, last, unsorted):  # noqa: ANN001, ANN202
    """Events of one polarity packet read byte by byte (any alignment, any event size)."""
    for _ in range(number):
        d = u32le(buf, j)
        if d & 1:
            ts = i32le(buf, j + tsoff)
            if ts < 0:
                return pos, last, unsorted, ts
            pos, last, unsorted = emit(out, pos, high | ts, (d >> 17) & 0x7FFF, (d >> 2) & 0x7FFF, (d >> 1) & 1,
                                       last, unsorted)
        j += esize
    return pos, last, unsorted, 0


@njit(nogil=True, cache=False)
def _polarity_words(words, out, pos, w, number, stride, tsw, high, last, unsorted):  # noqa: ANN001, ANN202
    """Events of one 4-byte-aligned polarity packet read as uint32 words (the fast path)."""
    for _ in range(number):
        d = words[w]
        if d & 1:
            ts = np.int64(words[w + tsw])
            if ts >= 0x80000000:
                return pos, last, unsorted, ts - 0x100000000
            pos, last, unsorted = emit(out, pos, high | ts, (d >> 17) & 0x7FFF, (d >> 2) & 0x7FFF, (d >> 1) & 1,
                                       last, unsorted)
        w += stride
    return pos, last, unsorted, 0


@njit(nogil=True, cache=False)
def _special(buf, j, number, esize, overflow, floor):  # noqa: ANN001, ANN202
    """Valid special events of one packet and the overflow floor after their timestamp wraps and resets."""
    valid = 0
    for _ in range(number):
        d = u32le(buf, j)
        if d & 1:
            valid += 1
            kind = (d >> 1) & 0x7F
            if kind == TIMESTAMP_WRAP:
                floor = max(overflow, floor) + 1
            elif kind == TIMESTAMP_RESET:
                floor = 0
        j += esize
    return valid, floor


@njit(nogil=True, cache=False)
def _decode_packets(buf, words, out, pos, state):  # noqa: ANN001, ANN202 - Numba kernel
    n = buf.size
    cap = out.size
    last = state[0]
    unsorted = state[1]
    full = state.size >= _N_STATE  # a two-entry state (an older caller's decoder) keeps no floor or counts
    floor = state[_FLOOR] if full else 0
    n_dvs = n_frames = n_imu = n_special = n_other = 0
    i = 0
    status = NEED_INPUT
    arg = 0
    while True:
        if n - i < PACKET_HEADER_BYTES:
            arg = PACKET_HEADER_BYTES if n > i else 0
            break
        etype = i16le(buf, i)
        esize = i32le(buf, i + 4)
        tsoff = i32le(buf, i + 8)
        overflow = i32le(buf, i + 12)
        capacity = i32le(buf, i + 16)
        number = i32le(buf, i + 20)
        if esize <= 0 or tsoff < 0 or tsoff > esize - 4 or overflow < 0 or number < 0 or capacity < number:
            status = _BAD_HEADER
            arg = esize
            break
        total = PACKET_HEADER_BYTES + esize * number
        if n - i < total:
            arg = total
            break
        j = i + PACKET_HEADER_BYTES
        if etype == POLARITY_EVENT:
            if esize < POLARITY_EVENT_BYTES:
                status = _BAD_EVENT_SIZE
                arg = esize
                break
            if cap - pos < number:
                status = NEED_OUTPUT
                arg = number
                break
            high = np.int64(max(overflow, floor)) << 31
            before = pos
            if words.size * 4 >= j + esize * number and (j | esize | tsoff) % 4 == 0:
                pos, last, unsorted, bad = _polarity_words(
                    words, out, pos, j // 4, number, esize // 4, tsoff // 4, high, last, unsorted)
            else:
                pos, last, unsorted, bad = _polarity_bytes(buf, out, pos, j, number, esize, tsoff, high, last, unsorted)
            if bad < 0:
                status = _BAD_TIMESTAMP
                arg = bad
                break
            n_dvs += pos - before
        elif etype == SPECIAL_EVENT:
            if esize < 8:
                status = _BAD_EVENT_SIZE
                arg = esize
                break
            valid, floor = _special(buf, j, number, esize, overflow, floor)
            n_special += valid
        else:
            valid = min(max(i32le(buf, i + 24), 0), number)
            if etype == FRAME_EVENT:
                n_frames += valid
            elif etype in (IMU6_EVENT, IMU9_EVENT):
                n_imu += valid
            else:
                n_other += valid
        i += total
    state[0] = last
    state[1] = unsorted
    if full:
        state[_FLOOR] = floor
        state[_COUNTS] += n_dvs
        state[_COUNTS + 1] += n_frames
        state[_COUNTS + 2] += n_imu
        state[_COUNTS + 3] += n_special
        state[_COUNTS + 4] += n_other
    return i, pos, status, arg


def make_decoder(bytes_per_event: int = POLARITY_EVENT_BYTES) -> ChunkDecoder:
    """A fresh packet decoder (``bytes_per_event`` sizes the first output allocation)."""
    return ChunkDecoder(_decode_packets, record="packet", bytes_per_event=bytes_per_event, errors=_ERRORS,
                        n_state=_N_STATE, words=True)


def read_header(path: str | Path) -> tuple[list[str], int]:
    """Header lines (decoded, without line endings) and the byte offset of the first packet.

    Raises
    ------
    FormatError
        The file does not start with ``#!AER-DAT3`` (an empty file included).
    CorruptRecordingError
        The header never reaches ``#!END-HEADER``.
    """
    path = Path(path)
    with path.open("rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise FormatError(f"{path}: not an AEDAT 3.x file (it does not start with {MAGIC.decode()!r})")
        f.seek(0)
        lines, start, stopped = read_comment_lines(f, path, b"#", stop=END_HEADER)
    if not stopped:
        raise CorruptRecordingError(path, start, f"the header does not end with a {END_HEADER.decode()!r} line")
    return [ln.decode("latin-1") for ln in lines], start


def header_camera(lines: list[str]) -> tuple[str | None, tuple[int, int] | None]:
    """The camera named by the header's source lines and the sensor ``(width, height)``.

    The camera is the first ``#-Source <id>: <name>`` line's (an original source kept by a replay), else
    the first ``#Source <id>: <name>`` line's up to a comma (``File`` names none). The size is the
    header's ``dvsSizeX``/``dvsSizeY`` entries when present, else that of the named camera; ``None`` for
    either when the header does not say.
    """
    named = [(m.group(1), m.group(2).split(",")[0].strip()) for m in map(_SOURCE.match, lines) if m]
    camera = next((name for dash, name in named if dash), None)
    if camera is None:
        camera = next((name for dash, name in named if name and name != "File"), None)
    text = "\n".join(lines)
    mx = re.search(r"\bdvsSizeX\b[^0-9\n]{0,40}(\d+)", text)
    my = re.search(r"\bdvsSizeY\b[^0-9\n]{0,40}(\d+)", text)
    if mx and my:
        return camera, (int(mx.group(1)), int(my.group(1)))
    if camera is not None:
        for pattern, size in _CAMERA_SIZES:
            if pattern.search(camera):
                return camera, size
    return camera, None


def inspect_aedat3(path: str | Path) -> Recording:
    """Read an AEDAT 3.1 file with its camera, sensor size and the count of each event type.

    Returns
    -------
    A :class:`~eventpipe.readers._recording.Recording`: the polarity events (as :func:`read_aedat3`) and
    the valid events per packet type: ``dvs_events``, ``aps_frames``, ``imu_samples`` (IMU6 and IMU9),
    ``special_events``, ``other_events``.

    Raises
    ------
    FormatError, CorruptRecordingError
        As :func:`read_aedat3`.
    """
    lines, start = read_header(path)
    decoder = make_decoder()
    events = decode_file(path, start, decoder)
    camera, sensor = header_camera(lines)
    counts = dict(zip(COUNT_NAMES, (int(v) for v in decoder.state[_COUNTS:]), strict=True))
    return Recording(events, "aedat3", camera, sensor, counts)


def read_aedat3(path: str | Path) -> Events:
    """Read the polarity events of an AEDAT 3.1 file.

    Parameters
    ----------
    path:
        An ``.aedat`` file written by cAER or DV (DVS128 Gesture, DAVIS cameras) or by :func:`write_aedat3`.

    Returns
    -------
    Events (``t`` in µs since the camera's time origin, sorted; ``x``, ``y`` in pixels; ``p`` 1 = ON).

    Raises
    ------
    FormatError
        Wrong magic (an empty file included).
    CorruptRecordingError
        Invalid packet header or truncated packet; names the byte offset.
    """
    _, start = read_header(path)
    return decode_file(path, start, make_decoder())


def _check_writable(events: Events, width: int, height: int) -> Events:
    for name, v in (("width", width), ("height", height)):
        if not 1 <= v <= 0x8000:
            raise ConfigError(f"Expected {name} in the inclusive range (1, 32768) for AEDAT 3.1. Got {v} instead.")
    ev = as_events(events)
    check_sorted(ev)
    check_in_sensor(ev, (width, height, 2))
    if len(ev):
        t_min, t_max = int(ev["t"][0]), int(ev["t"][-1])
        if t_min < 0 or t_max >= 1 << 62:
            raise EventValidationError(
                f"field t must lie in [0, 2**62) µs for AEDAT 3.1; got range [{t_min}, {t_max}]."
            )
    return ev


def write_aedat3(
    path: str | Path,
    events: Events,
    *,
    width: int = 128,
    height: int = 128,
    packet_size: int = 4096,
    source: str = "DVS128",
    start_time: str | None = None,
) -> Path:
    """Write events as an AEDAT 3.1 file of polarity packets (the inverse of :func:`read_aedat3`).

    Parameters
    ----------
    path:
        Output file (overwritten).
    events:
        Events sorted by ``t`` (µs, ``0 <= t < 2**62``) with ``x < width``, ``y < height``, ``p`` in {0, 1}.
    width, height:
        Sensor size in pixels, used to validate the coordinates (at most 32768).
    packet_size:
        Most events per packet; a packet also ends where ``t >> 31`` (the overflow counter) changes.
    source:
        Text of the ``#Source 1:`` header line.
    start_time:
        Text of an optional ``#Start-Time:`` header line; omitted by default so output is reproducible.

    Returns
    -------
    The path written.
    """
    if packet_size < 1:
        raise ConfigError(f"Expected packet_size >= 1. Got {packet_size} instead.")
    ev = _check_writable(events, width, height)
    path = Path(path)
    header = [b"#!AER-DAT3.1", b"#Format: RAW", f"#Source 1: {source}".encode()]
    if start_time is not None:
        header.append(f"#Start-Time: {start_time}".encode())
    header.append(END_HEADER)

    t = ev["t"]
    overflow = t >> 31
    records = np.empty(len(ev), dtype=_POLARITY)
    records["data"] = (
        (ev["x"].astype(np.uint32) << 17) | (ev["y"].astype(np.uint32) << 2)
        | (ev["p"].astype(np.uint32) << 1) | 1
    )
    records["ts"] = (t & 0x7FFFFFFF).astype(np.int32)
    run_starts = np.flatnonzero(np.diff(overflow)) + 1
    bounds = np.concatenate([[0], run_starts, [len(ev)]])
    starts = np.concatenate([np.arange(a, b, packet_size) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
                            or [np.zeros(0, dtype=np.int64)]).astype(np.int64)
    stops = np.append(starts[1:], len(ev))
    heads = np.zeros(len(starts), dtype=_PACKET_HEADER)
    heads["eventType"] = POLARITY_EVENT
    heads["eventSource"] = 1
    heads["eventSize"] = POLARITY_EVENT_BYTES
    heads["eventTSOffset"] = 4
    heads["eventTSOverflow"] = overflow[starts] if len(starts) else 0
    counts = stops - starts
    heads["eventCapacity"] = counts
    heads["eventNumber"] = counts
    heads["eventValid"] = counts
    with path.open("wb") as f:
        f.write(b"".join(line + b"\r\n" for line in header))
        for k in range(len(starts)):  # one write per packet, never per event
            f.write(heads[k : k + 1].tobytes())
            f.write(records[starts[k] : stops[k]].data)
    return path
