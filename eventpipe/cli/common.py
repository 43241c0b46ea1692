"""Options and helpers shared by the commands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from eventpipe.paths import resolve_root

__all__ = [
    "FLAGS",
    "JsonOption",
    "ManifestOption",
    "RootOption",
    "SchedulerOption",
    "WorkersOption",
    "resolve_root",
    "show_progress",
    "state",
]



def _use_root(root: Path | None) -> Path | None:
    """``--root`` callback: user datasets under the given root resolve by name in every command,
    including the dataset lookups a command makes before it reads its other options."""
    if root is not None:
        from eventpipe.sources import use_root

        use_root(resolve_root(root))
    return root


RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        metavar="DIR",
        help="Data folder for raw files and stores (default: $EVENTPIPE_HOME, else ~/.cache/eventpipe).",
        show_default=False,
        callback=_use_root,
    ),
]
WorkersOption = Annotated[
    int | None,
    typer.Option("--workers", min=1, show_default=False, help="Parallel workers (default: the number of CPU cores)."),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option("--scheduler", metavar="ADDRESS", show_default=False,
                 help="Address of an existing Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]
ManifestOption = Annotated[
    Path | None,
    typer.Option("--manifest", metavar="FILE", help="Use this manifest TOML instead of the packaged one.",
                 show_default=False),
]


@dataclass
class GlobalFlags:
    """Process-wide flags of the ``eventpipe`` command line, set by the main callback on every invocation."""

    quiet: bool = False
    debug: bool = False


FLAGS = GlobalFlags()


def state() -> dict[str, bool]:
    """Global flags set by the main callback (``--quiet``, ``--debug``)."""
    return {"quiet": FLAGS.quiet, "debug": FLAGS.debug}


def show_progress(json_out: bool = False) -> bool:
    """Whether a command draws progress bars: not with ``--quiet``, nor when it prints JSON."""
    return not (FLAGS.quiet or json_out)
