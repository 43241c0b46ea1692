"""One raw recording described for ``eventpipe info``: its events, camera, sensor and records per type.

>>> rec = describe_recording("dvs.aedat", chip="davis240")  # doctest: +SKIP
>>> rec.camera, rec.sensor, rec.counts                        # doctest: +SKIP
('DAVIS240 (chip=...)', (240, 180), {'dvs_events': 1200, 'aps_samples': 43200, ...})
"""

from __future__ import annotations

import os
from pathlib import Path

from eventpipe.errors import ConfigError, CorruptRecordingError, DataNotFoundError, FormatError
from eventpipe.readers import READERS, detect_format, read_events
from eventpipe.readers._detect import describe_head, sniff
from eventpipe.readers._recording import Recording
from eventpipe.readers.aedat2 import inspect_aedat2
from eventpipe.readers.aedat3 import inspect_aedat3

_HEAD_BYTES = 1 << 16


def _unreadable(reason: str, head: bytes) -> FormatError:
    """The one-line error for a file no reader takes: what was found, and the formats known."""
    names = ", ".join(sorted(READERS.names()))
    return FormatError(f"{reason.rstrip('.')}; {describe_head(head)}; known formats: {names} "
                       f"(pass --format on the command line, format= in Python).")


def _format(path: Path, format: str | None, chip: str | None, head: bytes) -> str:
    """The reader name: given, else detected (a ``chip`` means jAER's AEDAT 2.0 when nothing else matches)."""
    if format is not None:
        name = READERS.canonical(format)
    else:
        try:
            name = detect_format(path)
        except FormatError:
            if chip is None:
                raise _unreadable(f"{path}: cannot detect the format (no known header magic, "
                                  f"suffix {path.suffix.lower()!r})", head) from None
            name = "aedat2"
    if chip is not None and name != "aedat2":
        raise ConfigError(f"{path}: chip= (--chip) applies to AEDAT 2.0 (jAER) recordings, and this file reads "
                          f"as {name!r}; add format='aedat2' (--format aedat2) if it is one.")
    return name


def describe_recording(
    path: str | os.PathLike[str], format: str | None = None, *, chip: str | None = None
) -> Recording:
    """Read a raw recording with what else it holds: camera, sensor size and records per type.

    Parameters
    ----------
    path:
        The recording.
    format:
        A reader name; detected from the header magic, then the suffix, when ``None``.
    chip:
        For AEDAT 2.0 (jAER): the camera, overriding the header's ``AEChip`` line (needed for a file
        without a header); see :mod:`eventpipe.readers.jaer`.

    Returns
    -------
    A :class:`~eventpipe.readers._recording.Recording`. AEDAT 2.0 and 3.1 report their camera, sensor
    and each record type (skipped APS, IMU and special records included); other formats report their
    events as ``dvs_events``.

    Raises
    ------
    DataNotFoundError
        ``path`` does not exist.
    FormatError
        No reader takes the file: one line with its first header lines or magic and the known formats.
    CorruptRecordingError
        The file is in a known format but truncated or corrupt (file and byte offset named).
    ConfigError
        ``chip`` given for a file of another format, or an unknown ``chip`` or ``format``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such file")
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
    name = _format(path, format, chip, head)
    try:
        if name == "aedat2":
            return inspect_aedat2(path, chip=chip)
        if name == "aedat3":
            return inspect_aedat3(path)
        events = read_events(path, format=name)
    except CorruptRecordingError:
        raise
    except FormatError as exc:
        magic = {n: getattr(READERS.get(n), "magic", ()) for n in READERS.names()}
        if sniff(head, magic) == name:
            raise  # the file is in the format: the reader's message is the specific one
        raise _unreadable(str(exc), head) from None
    return Recording(events, name, counts={"dvs_events": len(events)})
