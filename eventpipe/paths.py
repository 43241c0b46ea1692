"""Where eventpipe keeps its data (no heavy imports: used by the CLI and the torch datasets alike)."""

from __future__ import annotations

import os
from pathlib import Path


def resolve_root(root: str | Path | None = None) -> Path:
    """The data root: ``root`` if given, else ``$EVENTPIPE_HOME``, else ``~/.cache/eventpipe``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("EVENTPIPE_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "eventpipe"
