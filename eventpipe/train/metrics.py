"""Per-epoch metrics: ``metrics.csv``, ``metrics.jsonl`` and TensorBoard scalars when it is installed.

One row per finished epoch. Nested values (per-layer firing rates, NeuroBench's metrics) are flattened
to ``key/subkey`` columns in the CSV and TensorBoard, and kept nested in the JSON lines. A row with a
column the CSV lacks (a history from an older version) rewrites the CSV with the new header, earlier
rows leaving it empty. On resume the files are rewritten from the checkpoint's history, so they never
hold epochs the checkpoint does not know.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

CSV_NAME = "metrics.csv"
JSONL_NAME = "metrics.jsonl"


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": 1, "b": {"c": 2}}`` -> ``{"a": 1, "b/c": 2}``."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, prefix=f"{name}/"))
        else:
            out[name] = value
    return out


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class MetricsWriter:
    """Append epoch rows to CSV + JSONL (+ TensorBoard) in ``folder``.

    Parameters
    ----------
    folder
        Run folder; created if missing.
    history
        Rows already recorded (from a checkpoint being resumed); the files are rewritten with them.
    tensorboard
        Also write TensorBoard scalars to ``folder/tensorboard`` when the ``tensorboard`` package is installed.
    """

    def __init__(self, folder: str | Path, history: Iterable[Mapping[str, Any]] = (), *, tensorboard: bool = True) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.folder / CSV_NAME
        self.jsonl_path = self.folder / JSONL_NAME
        self._columns: list[str] = []
        self._rows: list[dict[str, Any]] = []
        self.csv_path.unlink(missing_ok=True)
        self.jsonl_path.unlink(missing_ok=True)
        self._tb = _summary_writer(self.folder / "tensorboard") if tensorboard else None
        for row in history:
            self._write_files(row)

    def log(self, row: Mapping[str, Any]) -> None:
        """Record one epoch (``row["epoch"]`` is the 1-based epoch number)."""
        self._write_files(row)
        if self._tb is not None:
            step = int(row.get("epoch", 0))
            for key, value in flatten(row).items():
                if key != "epoch" and isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._tb.add_scalar(key, value, step)
            self._tb.flush()

    def _write_files(self, row: Mapping[str, Any]) -> None:
        flat = flatten(row)
        self._rows.append(flat)
        new = [k for k in flat if k not in self._columns]
        self._columns += new
        rows = self._rows if new else [flat]
        with self.csv_path.open("w" if new else "a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=self._columns)
            if new:
                writer.writeheader()
            writer.writerows(rows)
        with self.jsonl_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(_json_safe(row), sort_keys=False) + "\n")

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None


def _summary_writer(folder: Path) -> Any:
    """A TensorBoard ``SummaryWriter`` when ``tensorboard`` is installed, else ``None``."""
    try:
        import tensorboard  # noqa: F401
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(log_dir=str(folder))


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a ``metrics.jsonl`` file."""
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
