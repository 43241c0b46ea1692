"""The ``eventpipe`` Typer app and its global options; every command module adds its command to it.

:mod:`eventpipe.cli.main` imports the command modules (joining them here) and holds the console
entry point, so a command module imports :data:`app` from here and never the module that imports it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from eventpipe._version import __version__
from eventpipe.cli.common import FLAGS
from eventpipe.cli.help import HelpGroup

__all__ = ["app"]

app = typer.Typer(
    name="eventpipe",
    help="Neuromorphic (DVS) datasets from raw files to a trained spiking neural network.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=HelpGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"eventpipe {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Draw no progress bars.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    FLAGS.quiet, FLAGS.debug = quiet, debug
