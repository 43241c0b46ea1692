"""The ``eventpipe`` Typer app: one module per command, joined here."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from eventpipe._version import __version__
from eventpipe.cli.common import FLAGS
from eventpipe.errors import EventpipeError

app = typer.Typer(
    name="eventpipe",
    help="Neuromorphic (DVS) datasets from raw files to a trained spiking neural network.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"eventpipe {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    FLAGS.quiet, FLAGS.debug = quiet, debug


def _register_commands() -> None:
    """Import every module of ``eventpipe.cli.commands``; each adds its command(s) to ``app``."""
    import importlib
    import pkgutil

    from eventpipe.cli import commands

    for mod in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        importlib.import_module(f"{commands.__name__}.{mod}")


_register_commands()


def main() -> None:
    """Console entry point: one clear line and exit code 2 for an EventpipeError (traceback with --debug)."""
    # CPU tensors of 2 MB and more on transparent huge pages: a batch of frames is tens of MB, and
    # collating it into fresh 4 KB pages costs more than decoding it (``eventpipe bench loader``).
    # torch reads this once, at its first allocation; no command has imported torch yet.
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    try:
        app()
    except EventpipeError as exc:
        if FLAGS.debug:
            raise
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
