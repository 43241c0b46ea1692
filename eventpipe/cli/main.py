"""The ``eventpipe`` command line: every module of :mod:`eventpipe.cli.commands` joined to the app of
:mod:`eventpipe.cli.app`, its help style, and the console entry point."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from eventpipe.cli import commands
from eventpipe.cli.app import app
from eventpipe.cli.common import FLAGS
from eventpipe.cli.help import use_help_style
from eventpipe.errors import EventpipeError
from eventpipe.memory import use_huge_pages

__all__ = ["app", "main"]


def _register_commands() -> None:
    """Import every module of ``eventpipe.cli.commands``; each adds its command(s) to ``app``."""
    for mod in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        importlib.import_module(f"{commands.__name__}.{mod}")


_register_commands()
use_help_style(app)


def main() -> None:
    """Console entry point: one clear line and exit code 2 for an EventpipeError (traceback with --debug).

    The command's own process puts torch's large CPU tensors on huge pages
    (:func:`eventpipe.memory.use_huge_pages`; ``EVENTPIPE_HUGE_PAGES=0`` turns it off). torch reads
    the setting once, at its first allocation, and no command has imported torch yet.
    """
    try:
        use_huge_pages()
        app()
    except EventpipeError as exc:
        if FLAGS.debug:
            raise
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
