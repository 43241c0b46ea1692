"""Shared benchmark helpers: robust timing and a plain-text table."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def best_time(fn: Callable[[], Any], repeat: int = 3, min_time: float = 0.0) -> float:
    """Best wall time in seconds of ``repeat`` calls of ``fn`` (each call run until ``min_time`` s pass)."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        n = 0
        start = time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        best = min(best, elapsed / n)
    return best


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Render ``rows`` (dicts) as an aligned text table; floats get 3 significant decimals."""
    if not rows:
        return ""
    cols = list(columns or rows[0].keys())

    def fmt(v: Any) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    cells = [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])
