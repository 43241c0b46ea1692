"""Progress of a training or test pass: a tqdm bar on a terminal, one line per pass otherwise.

A bar redrawn with carriage returns is unreadable in a log file or CI output, so when stderr is not a
terminal each pass writes a single line to stderr when it ends.
"""

from __future__ import annotations

import sys
import time
from typing import Any


class PassLine:
    """The tqdm calls the trainer makes (``update``, ``set_postfix``, ``close``), summarised in one line."""

    def __init__(self, total: int, initial: int, desc: str) -> None:
        self.total = total
        self.n = initial
        self.desc = desc
        self.postfix: dict[str, Any] = {}
        self._start = time.perf_counter()
        self._closed = False

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        self.postfix = values

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        extra = "".join(f", {k} {v}" for k, v in self.postfix.items())
        print(f"{self.desc}: {self.n}/{self.total} samples in {time.perf_counter() - self._start:.1f} s{extra}",
              file=sys.stderr, flush=True)


class NoProgress:
    """The same calls, doing nothing. A disabled tqdm bar is not used instead: it starts tqdm's monitor
    thread and never stops it, leaving a thread running when the process exits."""

    def update(self, n: int = 1) -> None:
        return None

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        return None

    def close(self) -> None:
        return None


def progress(total: int, initial: int, desc: str, *, enabled: bool) -> Any:
    """A tqdm bar on a terminal, a :class:`PassLine` elsewhere, a :class:`NoProgress` when not ``enabled``."""
    if not enabled:
        return NoProgress()
    if not sys.stderr.isatty():
        return PassLine(total, initial, desc)
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="sample", leave=False, dynamic_ncols=True)
