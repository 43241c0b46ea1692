"""``eventpipe bench convert``: raw DVS128-Gesture-format files -> events store, 1 vs 2 workers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from eventpipe.cli.commands.bench import bench_app
from eventpipe.cli.common import JsonOption, show_progress


@bench_app.command("convert")
def convert_bench(
    recordings: Annotated[int, typer.Option(
        "--recordings", min=1, help="Recordings to generate (~10 M events, ~80 MB each; the real dataset has 122).",
    )] = 12,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Timed runs per worker count (best is kept).")] = 2,
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Keep the generated recordings here and reuse them next time (default: a temporary folder).",
        show_default=False)] = None,
    json_out: JsonOption = False,
) -> None:
    """Generate Gesture-format recordings, convert them with 1 and 2 workers; print M events/s and the speedup."""
    from eventpipe.bench.convert import run, table_rows
    from eventpipe.bench.report import format_table

    result = run(recordings=recordings, repeat=repeat, workdir=workdir, progress=show_progress(json_out))
    if json_out:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(format_table(table_rows(result)))
    typer.echo(
        f"{result['recordings']} recordings, {result['events'] / 1e6:.1f} M events, {result['samples']} samples; "
        f"store {result['store_bytes_per_event']:.2f} B/event vs npz {result['npz_per_sample']['bytes_per_event']:.2f}"
    )
    for name, t in result["targets"].items():
        value = "n/a" if t["value"] is None else f"{t['value']:.3g}"
        typer.echo(f"  {name}: {value} (target >= {t['target']:g}) {'met' if t['met'] else 'NOT met'}")
