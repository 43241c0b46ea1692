"""Text headers of raw recordings: runs of comment lines (``#`` for AEDAT, ``%`` for Prophesee)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from eventpipe.errors import FormatError

MAX_LINE = 1 << 20
"""Longest header line accepted (bytes); a longer one means the file is not a text-headed recording."""


def read_comment_lines(
    f: BinaryIO, path: str | Path, prefix: bytes, *, stop: bytes | None = None
) -> tuple[list[bytes], int, bool]:
    """Read consecutive lines that start with ``prefix`` from the current position of ``f``.

    Parameters
    ----------
    f:
        Binary file positioned at the start of the header.
    path:
        The file's path, for messages.
    prefix:
        Comment marker each header line starts with.
    stop:
        If given, a line equal to it (line ending stripped) ends the header and is included.

    Returns
    -------
    (lines, data_start, stopped): the header lines without line endings, the byte offset where the
    binary data starts (after the last header line), and whether the ``stop`` line was seen.
    """
    lines: list[bytes] = []
    while True:
        start = f.tell()
        line = f.readline(MAX_LINE)
        if not line.startswith(prefix):
            f.seek(start)
            return lines, start, False
        if len(line) == MAX_LINE and not line.endswith(b"\n"):
            raise FormatError(f"{path}: header line at byte {start} is longer than {MAX_LINE} bytes")
        text = line.rstrip(b"\r\n")
        lines.append(text)
        if stop is not None and text == stop:
            return lines, f.tell(), True


def read_prophesee_header(path: str | Path) -> tuple[list[str], int]:
    """The ``%`` header lines of a Prophesee file (DAT or RAW) and the offset where binary data starts.

    The header ends at a ``% end`` line when there is one, else before the first line that does not
    start with ``%``.

    Raises
    ------
    FormatError
        The file does not start with ``%`` (an empty file included).
    """
    path = Path(path)
    with path.open("rb") as f:
        if f.read(1) != b"%":
            raise FormatError(f"{path}: not a Prophesee file (it does not start with a '%' header line)")
        f.seek(0)
        lines, start, _ = read_comment_lines(f, path, b"%", stop=b"% end")
    return [ln.decode("latin-1") for ln in lines], start
