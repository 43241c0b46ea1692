"""Prophesee EVT 3.0 ``.raw`` (Gen4 / IMX636 sensors), with timestamps decoded by the format spec.

Layout: text header lines starting with ``%`` (``% evt 3.0``), then little-endian ``u16`` words whose
top 4 bits give the type, each word updating the decoder state:

====  ==============  ==================================================================
0x0   EVT_ADDR_Y      ``y = w & 0x7FF``
0x2   EVT_ADDR_X      one event at ``x = w & 0x7FF``, polarity bit 11, current y and time
0x3   VECT_BASE_X     ``base_x = w & 0x7FF``, vector polarity bit 11
0x4   VECT_12         events at ``base_x + k`` for each set bit k of ``w & 0xFFF``; ``base_x += 12``
0x5   VECT_8          events at ``base_x + k`` for each set bit k of ``w & 0xFF``; ``base_x += 8``
0x6   EVT_TIME_LOW    ``time_low = w & 0xFFF``
0x8   EVT_TIME_HIGH   ``time_high = w & 0xFFF``
0x7, 0xA, 0xE, 0xF    CONTINUED_4, EXT_TRIGGER, OTHERS, CONTINUED_12: no CD events, skipped
====  ==============  ==================================================================

The timestamp is the 24-bit ``time_high << 12 | time_low`` µs. A wrap of time_low is already carried by
the next EVT_TIME_HIGH word, so nothing is added for it (expelliarmus 1.1.12 adds 4096 µs there, which
inflates durations). Only a wrap of time_high (a drop of more than half its range) advances the
timestamp by ``2**24`` µs. Events before the first EVT_TIME_HIGH (time unknown) are dropped, as in
Prophesee's decoder; reserved word types are reported as corruption.
"""

from __future__ import annotations

from pathlib import Path

from numba import njit

from eventpipe.events import Events
from eventpipe.readers._bytes import advance_time_high, emit, put_event, u16le
from eventpipe.readers._header import read_prophesee_header
from eventpipe.readers._stream import NEED_INPUT, NEED_OUTPUT, ChunkDecoder, decode_file

WORD_BYTES = 2
ADDR_Y, ADDR_X, VECT_BASE_X, VECT_12, VECT_8, TIME_LOW, CONTINUED_4, TIME_HIGH = 0x0, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8
EXT_TRIGGER, OTHERS, CONTINUED_12 = 0xA, 0xE, 0xF
MAX_EVENTS_PER_WORD = 12
_TIME_HIGH_RANGE = 1 << 12

_BAD_TYPE = 2
_ERRORS = {_BAD_TYPE: "reserved EVT 3.0 word type {arg:#x}"}

# state slots after the two shared ones
_S_TIME_HIGH, _S_TIME_LOW, _S_Y, _S_BASE_X, _S_VECT_POL, _S_SEEN = 2, 3, 4, 5, 6, 7


@njit(nogil=True, cache=False)
def _decode_evt3(buf, out, pos, state):  # noqa: ANN001, ANN202 - Numba kernel
    n = (buf.size // WORD_BYTES) * WORD_BYTES
    cap = out.size
    last = state[0]
    unsorted = state[1]
    time_high = state[_S_TIME_HIGH]  # including wraps, in units of 4096 µs
    time_low = state[_S_TIME_LOW]
    cur_y = state[_S_Y]
    base_x = state[_S_BASE_X]
    vect_pol = state[_S_VECT_POL]
    seen = state[_S_SEEN]
    status = NEED_INPUT
    arg = WORD_BYTES if buf.size > n else 0
    i = 0
    while i < n:
        if cap - pos < MAX_EVENTS_PER_WORD:
            status = NEED_OUTPUT
            arg = MAX_EVENTS_PER_WORD
            break
        w = u16le(buf, i)
        kind = w >> 12
        if kind == ADDR_Y:
            cur_y = w & 0x7FF
        elif kind == ADDR_X:
            if seen:
                tt = (time_high << 12) | time_low
                pos, last, unsorted = emit(out, pos, tt, w & 0x7FF, cur_y, (w >> 11) & 1, last, unsorted)
        elif kind == VECT_BASE_X:
            base_x = w & 0x7FF
            vect_pol = (w >> 11) & 1
        elif kind in (VECT_12, VECT_8):
            width = 12 if kind == VECT_12 else 8
            if seen:
                tt = (time_high << 12) | time_low
                mask = w & ((1 << width) - 1)
                for k in range(width):
                    if (mask >> k) & 1:
                        put_event(out, pos, tt, base_x + k, cur_y, vect_pol)
                        pos += 1
                if mask:
                    if tt < last:
                        unsorted = 1
                    last = tt
            base_x += width
        elif kind == TIME_LOW:
            time_low = w & 0xFFF
        elif kind == TIME_HIGH:
            time_high = advance_time_high(time_high, w & 0xFFF, _TIME_HIGH_RANGE, seen)
            seen = 1
        elif kind != CONTINUED_4 and kind != EXT_TRIGGER and kind != OTHERS and kind != CONTINUED_12:
            status = _BAD_TYPE
            arg = kind
            break
        i += WORD_BYTES
    state[0] = last
    state[1] = unsorted
    state[_S_TIME_HIGH] = time_high
    state[_S_TIME_LOW] = time_low
    state[_S_Y] = cur_y
    state[_S_BASE_X] = base_x
    state[_S_VECT_POL] = vect_pol
    state[_S_SEEN] = seen
    return i, pos, status, arg


def read_evt3(path: str | Path) -> Events:
    """Read a Prophesee EVT 3.0 ``.raw`` file.

    Returns
    -------
    Events sorted by ``t`` (sensor time in µs, not shifted to 0), ``x``, ``y`` in pixels, ``p`` 1 = ON.

    Raises
    ------
    FormatError
        No ``%`` header (an empty file included).
    CorruptRecordingError
        A partial final word or a reserved word type; names the byte offset.
    """
    path = Path(path)
    _, start = read_prophesee_header(path)
    # about 2.5 bytes per event in recordings (ADDR_X plus shared ADDR_Y/time words); vectors grow the output
    decoder = ChunkDecoder(_decode_evt3, record="16-bit word", bytes_per_event=2 * WORD_BYTES,
                           errors=_ERRORS, n_state=8)
    return decode_file(path, start, decoder)
