"""``eventpipe convert NAME``: raw files -> events store, in parallel, resumable and idempotent."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import typer

from eventpipe.cli.app import app
from eventpipe.cli.common import (
    JsonOption,
    RootOption,
    SchedulerOption,
    WorkersOption,
    resolve_root,
    show_progress,
)


def show_dashboard(url: str) -> None:
    """Print a local cluster's dashboard URL (on stderr: stdout may be JSON)."""
    typer.echo(f"dashboard: {url}", err=True)


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` -> ``(key, value)``; the value is read as JSON when it parses (numbers), else a string."""
    from eventpipe.errors import ConfigError

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"Expected --option as KEY=VALUE. Got {text!r} instead.")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value


@app.command("convert")
def convert_command(
    name: Annotated[str, typer.Argument(help="Dataset name (see `eventpipe datasets`).")],
    root: RootOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    on_error: Annotated[Literal["raise", "skip"], typer.Option(
        "--on-error", help="What a corrupt raw file does: raise stops at the first one (naming the file and the "
        "byte offset), skip leaves such files out and lists them in the store.")] = "raise",
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", metavar="KEY=VALUE", help="A dataset option, repeatable (e.g. -o split_scheme=first_100 "
        "for cifar10dvs, -o test_fraction=0.2).", show_default=False)] = None,
    dashboard: Annotated[bool, typer.Option(
        "--dashboard", help="Give the local Dask cluster a dashboard (on 127.0.0.1 only) and print its URL; "
        "work small enough to run in this process starts no cluster.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Convert ROOT/NAME/raw into the events store ROOT/NAME/events.zarr.

    One task per raw file (or batch of small files) on a local Dask cluster, or on --scheduler.
    An interrupted run resumes where it stopped; a finished store is left as it is.
    """
    from eventpipe.pipeline.convert import convert

    options = dict(parse_option(o) for o in option or ())
    result = convert(name, resolve_root(root), workers=workers, scheduler=scheduler, on_error=on_error,
                     progress=show_progress(json_out),
                     dashboard=show_dashboard if dashboard else None, **options)
    if json_out:
        typer.echo(json.dumps({**result.__dict__, "events_total": result.events_total}))
        return
    samples = ", ".join(f"{s} {n}" for s, n in result.num_samples.items())
    rate = result.events_total / result.seconds / 1e6 if result.seconds and result.parts_written else 0.0
    typer.echo(f"{result.dataset}: {result.status}; {sum(result.num_samples.values())} samples ({samples}), "
               f"{result.events_total / 1e6:.2f} M events")
    if result.parts_written:
        typer.echo(f"  {result.parts_written} of {result.parts_total} parts written in {result.seconds:.1f} s "
                   f"({rate:.1f} M events/s)")
    typer.echo(f"  store: {result.store}")
    for s in result.skipped:
        where = f" at byte {s['offset']}" if s.get("offset") is not None else ""
        typer.echo(f"  skipped ({s['split']}): {s['path']}{where}: {s['reason']}")
