"""Progress bars that stay out of logs: drawn on a terminal, left out when stderr is a file or a pipe.

A bar redrawn with carriage returns fills a log or CI output with thousands of partial lines; the
steps' own summary lines already say what happened there.
"""

from __future__ import annotations


def bar_disabled(progress: bool) -> bool | None:
    """tqdm's ``disable``: True when progress is off, else None (tqdm then draws only on a terminal)."""
    return None if progress else True
