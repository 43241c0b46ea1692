"""Finding pipeline files: a path, or the name of a bundled pipeline (``demo``, ``dvs128_gesture``, ...).

The repository's ``pipelines/`` folder ships inside the package as ``eventpipe/packaged/pipelines``
(see :func:`eventpipe.paths.packaged_dir`), so the same names work from a wheel, an editable
install and a source checkout.
"""

from __future__ import annotations

from pathlib import Path

from eventpipe.errors import DataNotFoundError

DEFAULT_PIPELINE = "demo"


def bundled_folder() -> Path | None:
    """Folder holding the bundled ``*.toml`` pipelines, or ``None`` if it has none."""
    from eventpipe.paths import packaged_dir

    checkout = Path(__file__).resolve().parents[2] / "pipelines"
    for folder in (packaged_dir("pipeline"), checkout):
        if folder.is_dir() and any(folder.glob("*.toml")):
            return folder
    return None


def bundled_names() -> list[str]:
    """Names of the bundled pipelines (file stems)."""
    folder = bundled_folder()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder else []


def resolve_pipeline(name_or_path: str | Path | None) -> Path:
    """The pipeline file for a path, a bundled name (with or without ``.toml``), or ``None`` (``demo``)."""
    value = str(name_or_path) if name_or_path is not None else DEFAULT_PIPELINE
    path = Path(value).expanduser()
    if path.is_file():
        return path
    folder = bundled_folder()
    stem = value[:-5] if value.endswith(".toml") else value
    if folder is not None and "/" not in stem and (folder / f"{stem}.toml").is_file():
        return folder / f"{stem}.toml"
    names = ", ".join(repr(n) for n in bundled_names())
    raise DataNotFoundError(f"pipeline {value!r} is neither a file nor a bundled pipeline (bundled: {{{names}}})")
