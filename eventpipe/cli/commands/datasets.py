"""``eventpipe datasets``: the catalogue of built-in and plugin datasets, with their local status."""

from __future__ import annotations

import json

import typer

from eventpipe.cli.app import app
from eventpipe.cli.common import JsonOption, RootOption, resolve_root


@app.command("datasets")
def datasets_command(root: RootOption = None, json_out: JsonOption = False) -> None:
    """List every dataset: sensor, classes, download size, license, and what is present under ROOT
    (raw files, events store, frames stores)."""
    from eventpipe.cli.tables import format_table
    from eventpipe.sources.catalogue import catalogue

    data_root = resolve_root(root)
    rows = catalogue(data_root)
    if json_out:
        typer.echo(json.dumps({"root": str(data_root), "datasets": rows}))
        return
    table = [{
        "name": r["name"],
        "sensor": r["sensor"],
        "classes": r["classes"],
        "size": r["size"],
        "license": r["license"],
        "download": "manual" if r["manual_download"] else "auto",
        "raw": "yes" if r["raw"] else "-",
        "events store": r["store"],
        "frames": _frames_cell(len(r["frames"]), len(r.get("frames_interrupted", ()))),
    } for r in rows]
    typer.echo(format_table(table))
    typer.echo(f"\nroot: {data_root}")


def _frames_cell(finished: int, interrupted: int) -> str:
    """``2``, ``2 (+1 interrupted)`` or ``-``: finished frames stores, and unfinished ones a rerun resumes."""
    if not finished and not interrupted:
        return "-"
    return f"{finished}" + (f" (+{interrupted} interrupted)" if interrupted else "")
