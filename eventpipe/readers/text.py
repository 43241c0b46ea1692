"""Plain-text event files: one event per line, ``t x y p``, as the ETH event camera datasets ship them.

Accepted layout (see :func:`read_text` for the overrides):

- Fields separated by a comma, a semicolon, or runs of spaces and tabs (detected from the first
  non-comment line: a comma, else a semicolon, else whitespace).
- An optional header line: a first non-comment line that does not start with a number (``t,x,y,p``,
  ``timestamp x y polarity``). Its names then say which column is which, in any order (``t``, ``ts``,
  ``time``, ``timestamp``; ``x``; ``y``; ``p``, ``pol``, ``polarity``); other columns are ignored. A
  unit written in the time column's name (``t_us``, ``time [s]``, ``timestamp(ms)``) sets the time
  unit. Without a header the columns are ``t x y p``.
- The time unit, when neither given nor named in the header, follows one rule: a first time written
  with a decimal point or an exponent (``0.003811000``, ``1e-3``) means seconds, digits only
  (``3811``) mean µs; a later time with a fraction is then an error, not a silently rounded value.
  Times become int64 µs, rounded half to even below 1 µs.
- Polarity 0/1 or -1/1 (-1 is OFF); ``x`` and ``y`` integers in [0, 65535].
- Blank lines and lines starting with ``#`` are skipped; ``\\n`` or ``\\r\\n`` line ends.

The file streams through a bounded buffer into a Numba kernel (:mod:`eventpipe.readers._ascii`), so
only the events grow with the file. A malformed line is one
:class:`~eventpipe.errors.CorruptRecordingError` naming the file, byte offset, line number and the
line. Events out of time order are stable-sorted, as in every reader.

>>> layout = text_layout("events.csv", b"# DAVIS346\\ntimestamp [ms],x,y,p\\n1.5,3,4,-1\\n", complete=True)
>>> layout.fields, layout.delimiter, layout.time_unit, layout.lines_before
(('t', 'x', 'y', 'p'), ',', 'ms', 2)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eventpipe.errors import ConfigError, CorruptRecordingError, FormatError
from eventpipe.events import EVENT_DTYPE, Events
from eventpipe.readers import _ascii
from eventpipe.readers._columns import check_times
from eventpipe.readers._digest import FileHasher

CHUNK_BYTES = 8 << 20
"""Read-buffer size in bytes; a line longer than this is an error (the file is not text events)."""
HEAD_BYTES = 1 << 20
"""Bytes read up front to find the header, the delimiter and the first time."""

TIME_UNITS = {"s": 6, "ms": 3, "us": 0, "ns": -3}
"""Time units and the power of ten that turns each into µs."""
_UNIT_ALIASES = {"sec": "s", "seconds": "s", "µs": "us", "μs": "us"}
DELIMITERS = (None, ",", ";", "\t", " ")
"""Accepted ``delimiter`` values: ``None`` detects; tab and space both mean runs of blanks."""
COLUMN_NAMES = {
    "t": ("t", "ts", "time", "times", "timestamp", "timestamps"),
    "x": ("x",),
    "y": ("y",),
    "p": ("p", "pol", "polarity", "polarities"),
}
"""Header names (case-insensitive) recognised for each event field."""

_DELIMITER_CODES = {None: _ascii.WHITESPACE, ",": ord(","), ";": ord(";")}
_FIELD_CODES = {"t": _ascii.T, "x": _ascii.X, "y": _ascii.Y, "p": _ascii.P, None: _ascii.SKIP}
_NAME_TO_FIELD = {name: field for field, names in COLUMN_NAMES.items() for name in names}
_NAME = re.compile(
    r"^(?P<base>[a-z]+)(?:[\s_\-]*[\[(]?\s*(?P<unit>s|sec|seconds|ms|us|µs|μs|ns)\s*[\])]?)?$"
)
_BOM = b"\xef\xbb\xbf"
_NUMERIC_START = b"0123456789+-."
_T_MIN = np.iinfo(np.int64).min


@dataclass(frozen=True)
class TextLayout:
    """How a text file's lines are read.

    Attributes
    ----------
    fields:
        The event field of each column (``"t"``, ``"x"``, ``"y"``, ``"p"``, or ``None``: ignored).
    labels:
        The name of each column in messages (the header's names, else the field names).
    delimiter:
        ``","`` or ``";"``, or ``None`` for runs of spaces and tabs.
    time_unit:
        One of :data:`TIME_UNITS`.
    unit_inferred:
        True when ``time_unit`` is µs only because the first time had no decimal point or exponent;
        a later time with a fraction is then an error rather than a silent sub-µs value.
    start:
        Byte offset of the first line after the header (0 without one, 3 after a UTF-8 BOM).
    lines_before:
        Lines before ``start`` (error messages count lines from 1 at the top of the file).
    """

    fields: tuple[str | None, ...]
    labels: tuple[str, ...]
    delimiter: str | None
    time_unit: str
    start: int
    lines_before: int
    unit_inferred: bool = False


def _check_option(name: str, value: object, valid: Sequence[object]) -> None:
    if value not in valid:
        shown = ", ".join(repr(v) for v in valid)
        raise ConfigError(f"Unknown value {value!r} for argument {name}. Valid values are {{{shown}}}.")


def _content_lines(head: bytes, start: int, complete: bool) -> list[tuple[int, int, bytes]]:
    """``(line_number, end_offset, text)`` of the first two lines that are neither blank nor comments."""
    found: list[tuple[int, int, bytes]] = []
    number = 0
    pos = start
    while pos < len(head) and len(found) < 2:
        nl = head.find(b"\n", pos)
        if nl < 0 and not complete:
            break  # a line cut by the end of the head
        end = len(head) if nl < 0 else nl + 1
        number += 1
        text = head[pos:end].strip()
        if text and not text.startswith(b"#"):
            found.append((number, end, text))
        pos = end
    return found


def _split(line: bytes, delimiter: str | None) -> list[bytes]:
    return line.split(delimiter.encode()) if delimiter is not None else line.split()


def _header_fields(path: Path, names: list[bytes]) -> tuple[tuple[str | None, ...], tuple[str, ...], str | None]:
    """Fields, labels and the time unit named by a header line."""
    fields: list[str | None] = []
    labels: list[str] = []
    unit = None
    for raw in names:
        label = raw.strip().strip(b"\"'").decode("utf-8", "replace")
        m = _NAME.match(label.strip().lower())
        field = _NAME_TO_FIELD.get(m["base"]) if m else None
        if field in fields:
            raise FormatError(f"{path}: the header names the {field} column twice: {label!r}")
        if field == "t" and m is not None and m["unit"]:
            unit = _UNIT_ALIASES.get(m["unit"], m["unit"])
        fields.append(field)
        labels.append(label)
    missing = [f for f in "txyp" if f not in fields]
    if missing:
        accepted = "; ".join(f"{f}: {', '.join(n)}" for f, n in COLUMN_NAMES.items())
        raise FormatError(
            f"{path}: the header line {labels} lacks the columns {missing}; accepted names "
            f"(case-insensitive, optional unit suffix like t_us) are {accepted}"
        )
    return tuple(fields), tuple(labels), unit


def text_layout(
    path: str | Path,
    head: bytes,
    *,
    complete: bool,
    time_unit: str | None = None,
    delimiter: str | None = None,
    columns: Sequence[str | None] | None = None,
) -> TextLayout:
    """The :class:`TextLayout` of a text event file from its first bytes ``head``.

    ``complete`` says whether ``head`` is the whole file (then its last line needs no newline). The
    options are those of :func:`read_text`.

    Raises
    ------
    ConfigError
        An unknown option value.
    FormatError
        The first line holds binary bytes, or a header line lacks t, x, y or p or names one twice.
    """
    path = Path(path)
    _check_option("time_unit", time_unit, [None, *TIME_UNITS])
    _check_option("delimiter", delimiter, DELIMITERS)
    if columns is not None and sorted(c for c in columns if c is not None) != ["p", "t", "x", "y"]:
        raise ConfigError(
            f"Expected columns to name each of 't', 'x', 'y', 'p' once (None for ignored columns). "
            f"Got {tuple(columns)!r} instead."
        )
    start = len(_BOM) if head.startswith(_BOM) else 0
    lines = _content_lines(head, start, complete)
    first = lines[0][2] if lines else b""
    if delimiter is None:
        delimiter = "," if b"," in first else ";" if b";" in first else None
    elif delimiter in ("\t", " "):
        delimiter = None
    fields: tuple[str | None, ...] = tuple(columns) if columns is not None else ("t", "x", "y", "p")
    labels = tuple(f or "ignored" for f in fields)
    unit = None
    lines_before = 0
    binary = re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", first)
    if binary:
        raise FormatError(
            f"{path}: line {lines[0][0]} holds binary bytes ({binary[0][0]:#04x}); not a text event file"
        )
    if first and first[0] not in _NUMERIC_START:
        fields, labels, unit = _header_fields(path, _split(first, delimiter))
        lines_before, start = lines[0][0], lines[0][1]
        lines = lines[1:]
    inferred = time_unit is None and unit is None
    if time_unit is None:
        time_unit = unit or "us"
        if inferred and lines:
            tokens = _split(lines[0][2], delimiter)
            t_col = fields.index("t")
            if t_col < len(tokens) and any(c in tokens[t_col] for c in b".eE"):
                time_unit = "s"
    return TextLayout(fields, labels, delimiter, time_unit, start, lines_before, inferred and time_unit == "us")


def _line_at(buf: np.ndarray, i: int) -> str:
    nl = np.flatnonzero(buf[i : i + 200] == ord("\n"))
    text = bytes(buf[i : i + (int(nl[0]) if len(nl) else 200)]).rstrip(b"\r")
    return repr(text.decode("utf-8", "replace")[:100])


def _reason(status: int, arg: int, layout: TextLayout) -> str:
    n = len(layout.fields)
    label = layout.labels[arg] if arg < n else ""
    col = f"column {arg + 1} ({label})"
    return {
        _ascii.BAD_NUMBER: f"{col} is not a number",
        _ascii.FEW_FIELDS: f"{arg} fields where {n} are expected",
        _ascii.EXTRA_FIELDS: f"more than the {n} expected fields",
        _ascii.NEGATIVE_COORD: f"{col} is negative; coordinates are pixels >= 0",
        _ascii.BAD_COORD: f"{col} is not an integer in [0, 65535]",
        _ascii.BAD_POLARITY: f"{col} is not a polarity 0/1 or -1/1",
        _ascii.BAD_TIME: f"{col} is negative or beyond the int64 µs range (time unit {layout.time_unit})",
        _ascii.FRACTIONAL_TIME: f"{col} has a fraction, but times are read as µs because the first time has "
                                f"no decimal point; pass time_unit= ('s', 'ms', 'us', 'ns')",
    }.get(status, f"unparsable line (code {status})")


def read_text(
    path: str | Path,
    *,
    time_unit: str | None = None,
    delimiter: str | None = None,
    columns: Sequence[str | None] | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Events:
    """Read a text event file (the module docstring has the layout).

    Parameters
    ----------
    path:
        The file.
    time_unit:
        ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``; overrides the header's unit and the inferred one.
    delimiter:
        ``","``, ``";"``, ``"\\t"`` or ``" "`` (the last two: runs of spaces and tabs); detected when None.
    columns:
        The field of each column of a headerless file (``("x", "y", "t", "p")``; ``None`` entries are
        ignored columns); default ``t x y p``. A header line overrides it.
    chunk_bytes:
        Read-buffer size in bytes.

    Returns
    -------
    Events sorted by ``t`` (µs, stable), ``x``, ``y`` in pixels, ``p`` 1 = ON.

    Raises
    ------
    ConfigError
        An unknown option value.
    FormatError
        The first line holds binary bytes (not a text file), or a header line lacks t, x, y or p.
    CorruptRecordingError
        A malformed line (the byte offset, line number, column and line are named), or a line longer
        than ``chunk_bytes``.
    """
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
        layout = text_layout(path, head, complete=len(head) == size, time_unit=time_unit,
                             delimiter=delimiter, columns=columns)
        fields = np.array([_FIELD_CODES[c] for c in layout.fields], dtype=np.int64)
        delim = _DELIMITER_CODES[layout.delimiter]
        t_exp = TIME_UNITS[layout.time_unit]
        lines_in_head = head.count(b"\n") + 1
        out = np.empty(int(size * lines_in_head / max(len(head), 1) * 1.05) + 1024, dtype=EVENT_DTYPE)
        pos = 0
        state = np.array([_T_MIN, 0, layout.lines_before], dtype=np.int64)
        buf = np.empty(max(min(chunk_bytes, size - layout.start), 64) + 1, dtype=np.uint8)  # +1: a final '\n'
        filled = 0
        base = layout.start  # file offset of buf[0]
        hasher = FileHasher.if_recording(path)
        f.seek(0)
        if hasher is not None:
            hasher.update(f.read(layout.start))
        f.seek(layout.start)
        while True:
            n_read = f.readinto(buf[filled : len(buf) - 1].data) or 0
            if hasher is not None and n_read:
                hasher.update(buf[filled : filled + n_read].data)
            filled += n_read
            eof = not n_read
            if eof and filled and buf[filled - 1] != ord("\n"):
                buf[filled] = ord("\n")  # the last line needs no newline
                filled += 1
            begin = 0
            while True:
                consumed, pos, status, arg = _ascii.parse_lines(buf[begin:filled], out, pos, state, fields, delim,
                                                                t_exp, int(layout.unit_inferred))
                begin += consumed
                if status == _ascii.NEED_OUTPUT:
                    out.resize(2 * len(out), refcheck=False)
                    continue
                if status != _ascii.NEED_INPUT:
                    raise CorruptRecordingError(
                        path, base + begin,
                        f"line {state[2] + 1}: {_reason(status, arg, layout)}: {_line_at(buf, begin)}",
                    )
                break
            if eof:
                break
            rest = filled - begin
            if rest == len(buf) - 1 and base + filled < size:
                raise CorruptRecordingError(
                    path, base, f"line {state[2] + 1} is longer than {rest} bytes; not a text event file"
                )
            buf[:rest] = buf[begin:filled]
            base += begin
            filled = rest
    if hasher is not None:
        hasher.finish()
    out.resize(pos, refcheck=False)
    if state[1]:
        out = out[np.argsort(out["t"], kind="stable")]
    return check_times(path, out)


def _digits(values: np.ndarray, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """ASCII digits of non-negative ``values`` as ``(n, width)`` bytes and a keep mask: zero-padded to
    ``width``, or without leading zeros when ``width`` is None."""
    strip = width is None
    if width is None:
        width = len(str(int(values.max()))) if len(values) else 1
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (values[:, None] // powers % 10 + 48).astype(np.uint8)
    keep = (values[:, None] >= powers) | (powers == 1) if strip else np.ones(digits.shape, dtype=bool)
    return digits, keep


def _text_block(events: Events, time_unit: str, sep: bytes) -> bytes:
    """The lines of ``events`` (see :func:`write_text`), built as one byte matrix without a loop per line."""
    n = len(events)
    t = events["t"].astype(np.int64)
    exp = TIME_UNITS[time_unit]
    parts: list[tuple[np.ndarray, np.ndarray]] = []

    def const(b: bytes) -> None:
        parts.append((np.broadcast_to(np.frombuffer(b, np.uint8), (n, len(b))), np.ones((n, len(b)), bool)))

    if exp > 0:
        decimals = 9 if time_unit == "s" else exp
        whole, frac = np.divmod(t, 10**exp)
        parts.append(_digits(whole))
        const(b".")
        parts.append(_digits(frac * 10 ** (decimals - exp), decimals))
    else:
        parts.append(_digits(t * 10**-exp))
    for name in "xyp":
        const(sep)
        parts.append(_digits(events[name].astype(np.int64)))
    const(b"\n")
    matrix = np.concatenate([d for d, _ in parts], axis=1)
    keep = np.concatenate([k for _, k in parts], axis=1)
    return matrix[keep].tobytes()


def write_text(path: str | Path, events: Events, *, time_unit: str = "s", delimiter: str = " ",
               header: bool = False) -> Path:
    """Write ``events`` as lines ``t x y p``, the inverse of :func:`read_text`; returns ``path``.

    Times are written in ``time_unit``: seconds with 9 decimals as the ETH datasets write them,
    milliseconds with 3, µs and ns as integers. With ``header`` the first line names the columns and
    the unit (``t_ms,x,y,p``), so the file reads back without options.
    """
    path = Path(path)
    _check_option("time_unit", time_unit, list(TIME_UNITS))
    with path.open("wb") as f:
        if header:
            f.write(delimiter.join([f"t_{time_unit}", "x", "y", "p"]).encode() + b"\n")
        for a in range(0, len(events), 1 << 18):
            f.write(_text_block(events[a : a + (1 << 18)], time_unit, delimiter.encode()))
    return path
