"""Format detection from the first bytes of a file (no heavy imports)."""

from __future__ import annotations

import re

_PROPHESEE_RAW = re.compile(rb"^%\s*(?:evt\s+(\d)\.(\d)|format\s+EVT(\d)(\d)?\b)", re.IGNORECASE)
_PROPHESEE_DAT = re.compile(rb"^%\s*(?:Version\s+\d|Data file containing|Height\s|Width\s)", re.IGNORECASE)


def prophesee_kind(head: bytes) -> str | None:
    """``'evt2'``, ``'evt3'`` or ``'dat'`` from a ``%`` text header, ``None`` if it names none of them."""
    kind = None
    for line in head.split(b"\n"):
        if not line.startswith(b"%"):
            break
        m = _PROPHESEE_RAW.match(line)
        if m:
            major = m.group(1) or m.group(3)
            minor = m.group(2) or m.group(4) or b"0"
            if minor == b"0" and major in (b"2", b"3"):
                return f"evt{major.decode()}"
            return None  # EVT 2.1, EVT 4, ...: a raw format no reader decodes
        if _PROPHESEE_DAT.match(line):
            kind = "dat"
    return kind


def sniff(head: bytes, magic: dict[str, tuple[bytes, ...]]) -> str | None:
    """The format whose magic ``head`` starts with (``magic``: prefixes per reader name), else ``None``."""
    for name, prefixes in magic.items():
        if any(head.startswith(m) for m in prefixes):
            return name
    if head.startswith(b"%"):
        return prophesee_kind(head)
    return None


def describe_head(head: bytes, max_lines: int = 3) -> str:
    """What the first bytes of a file show, for a one-line message: its first text lines, else its magic.

    Up to ``max_lines`` lines (each cut to 60 characters) when the file starts with printable text, else
    the first 8 bytes in hex and as a bytes literal.
    """
    if not head:
        return "it is empty"
    lines = []
    for raw in head.split(b"\n")[:max_lines]:
        line = raw.rstrip(b"\r")
        if not line or not all(32 <= b < 127 or b == 9 for b in line[:60]):
            break
        lines.append(line[:60].decode("ascii") + ("..." if len(line) > 60 else ""))
    if lines:
        return "its first lines are " + ", ".join(repr(line) for line in lines)
    return f"it starts with bytes {head[:8].hex(' ')} ({head[:8]!r})"
