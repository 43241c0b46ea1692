"""``eventpipe bench loader``: DataLoader samples/s from the frames store, npz files and on-the-fly ToFrames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from eventpipe.cli.commands.bench import bench_app
from eventpipe.cli.common import JsonOption, show_progress


@bench_app.command("loader")
def loader(
    users: Annotated[int, typer.Option("--users", min=2, help="Synthetic users; the train split has "
                                       "(users - 1) x 22 samples of 20 frames, 128x128.")] = 3,
    events_per_second: Annotated[float, typer.Option("--events-per-second", min=1000, help="Event rate of the "
                                                     "synthetic 6 s gestures.")] = 60_000.0,
    workers: Annotated[str, typer.Option("--workers", help="DataLoader worker counts, comma separated.")] = "0,2",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="DataLoader batch size.")] = 16,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Timed passes per configuration (best is kept).")] = 5,
    root: Annotated[Path | None, typer.Option("--root", help="Keep the generated data here (reused by later "
                                              "runs); default: a temporary folder.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Read a 20-frame 128x128 dataset through a DataLoader: frames store (float32 and uint8 items) vs
    SpikingJelly-style npz files vs on-the-fly integration of the events store (samples/s; target:
    frames store >= 3x npz)."""
    from eventpipe.bench.loader import run, table_rows
    from eventpipe.bench.report import format_table
    from eventpipe.errors import ConfigError

    try:
        counts = [int(w) for w in workers.split(",") if w.strip()]
    except ValueError:
        raise ConfigError(f"Expected --workers as comma-separated integers, e.g. 0,2. Got {workers!r} instead.") from None
    if not counts or min(counts) < 0:
        raise ConfigError(f"Expected --workers as integers >= 0, e.g. 0,2. Got {workers!r} instead.")
    result = run(users=users, events_per_second=events_per_second, workers=counts, batch_size=batch_size, epochs=epochs, root=root,
                 progress=show_progress(json_out))
    if json_out:
        typer.echo(json.dumps(result, indent=2))
        return
    cfg = result["config"]
    typer.echo(f"{cfg['samples']} samples of {cfg['frames']} frames 128x128 "
               f"({cfg['events_per_sample'] / 1e3:.0f} k events each), batch {cfg['batch_size']}")
    typer.echo(format_table(table_rows(result)))
    size = result["disk_bytes"]
    typer.echo(f"disk: frames store {size['frames_store'] / 1e6:.1f} MB, npz {size['npz_float64'] / 1e6:.1f} MB, "
               f"events store {size['events_store'] / 1e6:.1f} MB")
    for source, by_workers in result["speedup_vs_npz"].items():
        verdict = "meets" if result["meets_target"][source] else "misses"
        speedups = ", ".join(f"{s:.1f}x with {w} workers" for w, s in by_workers.items())
        typer.echo(f"{source} vs npz: {speedups} ({verdict} the {result['target_speedup']:.0f}x target)")
