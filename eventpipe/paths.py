"""Where eventpipe keeps its data and finds its packaged TOML files (no heavy imports)."""

from __future__ import annotations

import os
from pathlib import Path

from eventpipe.errors import ConfigError, UnknownNameError


def resolve_root(root: str | Path | None = None) -> Path:
    """The data root: ``root`` if given, else ``$EVENTPIPE_HOME``, else ``~/.cache/eventpipe``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("EVENTPIPE_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "eventpipe"


PACKAGED_KINDS = {"manifest": "manifests", "pipeline": "pipelines"}
"""TOML files shipped with eventpipe: kind -> folder inside ``eventpipe/packaged``."""


def packaged_dir(kind: str) -> Path:
    """Folder of the TOML files of ``kind`` (``"manifest"`` or ``"pipeline"``) that ship with eventpipe.

    ``data_manifests/`` and ``pipelines/`` at the top of the source tree are installed as
    ``eventpipe/packaged/{manifests,pipelines}`` (symbolic links in the source tree, real folders in a
    wheel), so the same lookup works for a wheel, an editable install and a source checkout.
    """
    if kind not in PACKAGED_KINDS:
        valid = ", ".join(repr(k) for k in PACKAGED_KINDS)
        raise ConfigError(f"Unknown value {kind!r} for argument kind. Valid values are {{{valid}}}.")
    return Path(__file__).parent / "packaged" / PACKAGED_KINDS[kind]


def packaged_names(kind: str) -> tuple[str, ...]:
    """Sorted names (file stems) of the packaged TOML files of ``kind``."""
    folder = packaged_dir(kind)
    return tuple(sorted(p.stem for p in folder.glob("*.toml"))) if folder.is_dir() else ()


def packaged_path(kind: str, name: str) -> Path:
    """Path of the packaged ``<name>.toml`` of ``kind`` (``"manifest"`` or ``"pipeline"``).

    >>> packaged_path("manifest", "demo").name
    'demo.toml'
    """
    path = packaged_dir(kind) / f"{name}.toml"
    if not path.is_file():
        valid = ", ".join(repr(n) for n in packaged_names(kind))
        raise UnknownNameError(f"Unknown value {name!r} for argument name ({kind}). Valid values are {{{valid}}}.")
    return path
