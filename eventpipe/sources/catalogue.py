"""The dataset catalogue behind ``eventpipe datasets``: what each dataset is, and what is here locally.

Registered datasets (built-ins, then plugins) come first, then the user datasets defined under the
data root (``kind`` ``"user"``, with the ``folder`` their recordings are read from).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from eventpipe.errors import ConfigError
from eventpipe.sources import dataset_names, get_dataset, user_dataset_names
from eventpipe.sources.base import DatasetSpec
from eventpipe.sources.static import StaticImagesSpec
from eventpipe.sources.user import UserDatasetSpec, definition_path, load_user_dataset


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
    """``"converted"``, ``"partial"`` (an interrupted conversion) or ``"-"`` (no events store; for a
    static image dataset, no images store)."""
    from eventpipe.store.location import exists
    from eventpipe.store.markers import COMPLETE, read_attrs

    path = spec.images_store_path(root) if isinstance(spec, StaticImagesSpec) else spec.events_store_path(root)
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
    """One row per registered dataset, then per user dataset under ``root``: name, kind
    (``"registered"`` or ``"user"``), title, sensor, classes, splits, size, license, manual download,
    the recordings folder of a user dataset (else None), and local status (raw files present, events
    store, finished and interrupted frames stores). A user dataset whose definition cannot be read
    has a row with ``problem`` (the error) and no other facts."""
    rows = [_row(get_dataset(name), root) for name in dataset_names()]
    for name in user_dataset_names(root):
        path = definition_path(root, name)
        try:
            spec = load_user_dataset(path)
        except ConfigError as exc:
            rows.append({"name": name, "kind": "user", "problem": str(exc), "root": str(path.parent)})
            continue
        rows.append(_row(spec, root))
    return rows


def _row(spec: DatasetSpec, root: str | os.PathLike[str]) -> dict[str, Any]:
    user = isinstance(spec, UserDatasetSpec)
    return {
        "name": spec.name,
        "kind": "user" if user else "registered",
        "title": spec.title,
        "sensor": "x".join(str(v) for v in spec.sensor),
        "classes": len(spec.classes),
        "splits": list(spec.splits),
        "size": human_bytes(sum(spec.files.values())) if user else download_size(spec),
        "license": spec.license,
        "manual_download": spec.manual_download,
        "folder": spec.folder if user else None,
        "raw": spec.raw_present(root),
        "store": store_status(spec, root),
        "frames": frames_stores(spec, root),
        "frames_interrupted": frames_stores(spec, root, complete=False),
        "root": str(Path(root) / spec.name),
    }
