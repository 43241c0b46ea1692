"""``eventpipe datasets``: the catalogue of built-in, plugin and user datasets, with their local status."""

from __future__ import annotations

import json

import typer

from eventpipe.cli.app import app
from eventpipe.cli.common import JsonOption, RootOption, resolve_root


@app.command("datasets")
def datasets_command(root: RootOption = None, json_out: JsonOption = False) -> None:
    """List every dataset: sensor, classes, download size, license, and what is present under ROOT
    (raw files, store, frames stores). A static image dataset's store is its images store (it has no
    frames stores: a pipeline's encoder makes spikes). User datasets (made by `eventpipe convert --from DIR
    --name NAME`) follow, marked "user", with the folder their recordings are read from."""
    from eventpipe.cli.tables import format_table
    from eventpipe.sources import get_dataset
    from eventpipe.sources.catalogue import catalogue
    from eventpipe.sources.static import StaticImagesSpec

    data_root = resolve_root(root)
    rows = catalogue(data_root)
    for r in rows:
        static = r["kind"] == "registered" and isinstance(get_dataset(r["name"]), StaticImagesSpec)
        r["store_kind"] = "images" if static else "events"
    if json_out:
        typer.echo(json.dumps({"root": str(data_root), "datasets": rows}))
        return
    good = [r for r in rows if "problem" not in r]
    table = [{
        "name": r["name"],
        "sensor": r["sensor"],
        "classes": r["classes"],
        "size": r["size"],
        "license": r["license"] or "-",
        "download": "user" if r["kind"] == "user" else "manual" if r["manual_download"] else "auto",
        "raw": "yes" if r["raw"] else "-",
        "store": r["store"] if r["store"] == "-" else f"{r['store_kind']}: {r['store']}",
        "frames": "encoder" if r["store_kind"] == "images" else
                  _frames_cell(len(r["frames"]), len(r.get("frames_interrupted", ()))),
    } for r in good]
    typer.echo(format_table(table))
    user = [r for r in rows if r["kind"] == "user"]
    if user:
        typer.echo("\nuser datasets (recordings read from their folder):")
        for r in user:
            typer.echo(f"  {r['name']}: {r.get('folder') or r['problem']}")
    typer.echo(f"\nroot: {data_root}")


def _frames_cell(finished: int, interrupted: int) -> str:
    """``2``, ``2 (+1 interrupted)`` or ``-``: finished frames stores, and unfinished ones a rerun resumes."""
    if not finished and not interrupted:
        return "-"
    return f"{finished}" + (f" (+{interrupted} interrupted)" if interrupted else "")
