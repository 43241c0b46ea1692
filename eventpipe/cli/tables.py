"""Plain-text tables for the commands' terminal output (``--json`` prints the same data for scripts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["format_table"]


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """``rows`` (dicts) as a text table with aligned columns; floats get 3 significant digits.

    ``columns`` picks and orders the columns (default: the first row's keys); a row without a
    column's key shows an empty cell. No rows make an empty string.

    >>> print(format_table([{"name": "demo", "MB": 1.23456}, {"name": "nmnist", "MB": 1024.0}]))
    name    MB
    ------  --------
    demo    1.23
    nmnist  1.02e+03
    """
    if not rows:
        return ""
    cols = list(columns or rows[0].keys())

    def fmt(v: Any) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    cells = [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = [cols, ["-" * w for w in widths], *cells]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in lines)
