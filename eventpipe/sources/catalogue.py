"""The dataset catalogue behind ``eventpipe datasets``: what each dataset is, and what is here locally."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from eventpipe.sources import dataset_names, get_dataset
from eventpipe.sources.base import DatasetSpec


def human_bytes(n: int) -> str:
    """``1234567`` -> ``'1.2 MB'`` (powers of 1000)."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def download_size(spec: DatasetSpec) -> str:
    """Total download size from the dataset's manifest when it lists every size, else the spec's estimate."""
    sizes = [f.size for f in spec.manifest.files] if spec.manifest is not None else []
    if sizes and all(s is not None for s in sizes):
        return human_bytes(sum(int(s) for s in sizes if s is not None))
    return spec.size or "?"


def store_status(spec: DatasetSpec, root: str | os.PathLike[str]) -> str:
    """``"converted"``, ``"partial"`` (an interrupted conversion) or ``"-"`` (no events store)."""
    from eventpipe.store.location import exists
    from eventpipe.store.markers import COMPLETE, read_attrs

    path = spec.events_store_path(root)
    if not exists(path):
        return "-"
    attrs = read_attrs(str(path)) or {}
    return "converted" if attrs.get(COMPLETE) else "partial"


def frames_stores(spec: DatasetSpec, root: str | os.PathLike[str], *, complete: bool = True) -> list[str]:
    """Names of the finished frames stores under ``root/<name>/frames`` (``complete=False``: those an
    interrupted run left unfinished, which the next ``prepare`` with the same options resumes)."""
    from eventpipe.store.markers import is_complete

    folder = spec.frames_root(root)
    found = sorted(p for p in folder.glob("*.zarr") if p.is_dir()) if folder.is_dir() else []
    return [p.name for p in found if is_complete(str(p)) == complete]


def catalogue(root: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One row per registered dataset: name, title, sensor, classes, splits, size, license, manual
    download, and local status (raw files present, events store, finished and interrupted frames stores)."""
    rows = []
    for name in dataset_names():
        spec = get_dataset(name)
        rows.append({
            "name": spec.name,
            "title": spec.title,
            "sensor": "x".join(str(v) for v in spec.sensor),
            "classes": len(spec.classes),
            "splits": list(spec.splits),
            "size": download_size(spec),
            "license": spec.license,
            "manual_download": spec.manual_download,
            "raw": spec.raw_present(root),
            "store": store_status(spec, root),
            "frames": frames_stores(spec, root),
            "frames_interrupted": frames_stores(spec, root, complete=False),
            "root": str(Path(root) / spec.name),
        })
    return rows
