"""Timing and the Markdown every benchmark reports in: one text for the terminal and ``docs/benchmarks.md``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["best_time", "markdown_table", "target_lines"]


def best_time(fn: Callable[[], Any], repeat: int = 3, min_time: float = 0.0) -> float:
    """Best wall time in seconds of ``repeat`` calls of ``fn`` (each call run until ``min_time`` s pass).

    The best, not the mean: other load on the machine only ever adds time, so the fastest call is
    the closest to the cost of the work itself.
    """
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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):  # 3 significant digits, but no exponent for the thousands
        text = f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    else:
        text = str(value)
    return text.replace("|", "\\|")


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """``rows`` (dicts) as a Markdown pipe table, padded so that it also reads well in a terminal.

    ``columns`` picks and orders the columns (default: the first row's keys). Floats get 3
    significant digits (whole numbers from 1000 up); columns whose cells are all numbers are right-aligned; a missing key or
    ``None`` is an empty cell. No rows make an empty string.

    >>> print(markdown_table([{"method": "ours", "M events/s": 151.25}, {"method": "numpy", "M events/s": 24.0}]))
    | method | M events/s |
    | :----- | ---------: |
    | ours   |        151 |
    | numpy  |         24 |
    """
    if not rows:
        return ""
    cols = list(columns or rows[0].keys())
    numeric = [all(r.get(c) is None or (isinstance(r.get(c), int | float) and not isinstance(r.get(c), bool))
                   for r in rows) for c in cols]
    grid = [[_cell(r.get(c)) for c in cols] for r in rows]
    width = [max(3, len(c), *(len(line[j]) for line in grid)) for j, c in enumerate(cols)]

    def line(cells: Sequence[str]) -> str:
        padded = (s.rjust(w) if right else s.ljust(w) for s, w, right in zip(cells, width, numeric, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = [("-" * (w - 1) + ":") if right else (":" + "-" * (w - 1)) for w, right in zip(width, numeric, strict=True)]
    return "\n".join([line(cols), line(rule), *(line(cells) for cells in grid)])


def target_lines(targets: dict[str, dict[str, Any]]) -> list[str]:
    """One Markdown list item per target: its measured value, the goal and whether it was met.

    ``targets`` maps a name to ``{"value", "target", "met"}`` and optionally ``"at_most": True``
    for a goal that is an upper bound (bytes, say).
    """
    lines = []
    for name, t in targets.items():
        value = "n/a" if t["value"] is None else f"{t['value']:.3g}"
        bound = "<=" if t.get("at_most") else ">="
        lines.append(f"- target `{name}`: {value} (goal {bound} {t['target']:g}), {'met' if t['met'] else 'NOT met'}")
    return lines
