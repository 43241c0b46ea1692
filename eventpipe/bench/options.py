"""What every ``eventpipe bench TOPIC`` command shares: ``--json``, ``--markdown PATH`` and the output.

A topic's command runs its benchmark, renders the result as Markdown (tables and ratio lines) and
hands both to :func:`emit`, which prints one or the other and writes the Markdown into the topic's
section of ``--markdown PATH``. The terminal and ``docs/benchmarks.md`` then show the same text.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from eventpipe.bench.document import update_section

__all__ = ["JsonOption", "MarkdownOption", "command_line", "emit", "show_progress"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object instead of Markdown.")]
MarkdownOption = Annotated[Path | None, typer.Option(
    "--markdown", metavar="PATH", show_default=False,
    help="Also write the result into this topic's section of a Markdown file (e.g. docs/benchmarks.md).")]

_OUTPUT_OPTIONS = ("json_out", "markdown")


def show_progress(ctx: typer.Context, json_out: bool) -> bool:
    """Whether a benchmark draws progress bars: not with ``--json``, nor under ``eventpipe --quiet``
    (read from the root command's parameters, so that this package needs nothing from the CLI's)."""
    return not (json_out or ctx.find_root().params.get("quiet"))


def command_line(ctx: typer.Context) -> str:
    """The ``eventpipe bench TOPIC ...`` line that repeats this run: the options given, not the
    defaults, and neither ``--json`` nor ``--markdown``."""
    words = ["eventpipe", "bench", ctx.info_name or ""]
    for param in ctx.command.params:
        name = param.name
        if param.param_type_name != "option" or name is None or name in _OUTPUT_OPTIONS:
            continue
        source = ctx.get_parameter_source(name)
        if source is None or source.name == "DEFAULT":
            continue
        value = ctx.params[name]
        if getattr(param, "is_flag", False):
            if value:
                words.append(param.opts[0])
            elif param.secondary_opts:
                words.append(param.secondary_opts[0])
            continue
        for item in value if param.multiple else [value]:
            if item is not None:
                words += [param.opts[0], shlex.quote(str(item))]
    return " ".join(words)


def emit(ctx: typer.Context, result: dict[str, Any], markdown_text: str, *, json_out: bool,
         markdown: Path | None) -> None:
    """Print ``result`` as JSON (``--json``) or ``markdown_text``; with ``--markdown PATH`` also write
    ``markdown_text`` into this topic's section of ``PATH``, headed by the command's first help line."""
    typer.echo(json.dumps(result, indent=2) if json_out else markdown_text)
    if markdown is None:
        return
    summary = (ctx.command.help or "").split("\n\n")[0].replace("\n", " ").strip()
    path = update_section(markdown, ctx.info_name or "", markdown_text, command=command_line(ctx), summary=summary)
    typer.echo(f"wrote the {ctx.info_name} section of {path}", err=True)
