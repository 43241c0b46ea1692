"""``eventpipe bench loader``: DataLoader samples/s from the frames store, npz files and on-the-fly ToFrames,
and the model's input on the device from the frames store against integrating raw events there."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from eventpipe.bench.options import JsonOption, MarkdownOption, emit, show_progress


def parse_counts(workers: str) -> list[int]:
    """``"0,2"`` -> ``[0, 2]``: the DataLoader worker counts of ``--workers``."""
    from eventpipe.errors import ConfigError

    try:
        counts = [int(w) for w in workers.split(",") if w.strip()]
    except ValueError:
        raise ConfigError(f"Expected --workers as comma-separated integers, e.g. 0,2. Got {workers!r} instead.") from None
    if not counts or min(counts) < 0:
        raise ConfigError(f"Expected --workers as integers >= 0, e.g. 0,2. Got {workers!r} instead.")
    return counts


def report(result: dict[str, Any]) -> str:
    """The Markdown of a :func:`eventpipe.bench.loader.run` result: samples/s per source and worker
    count, sizes on disk, each frames-store source as a multiple of the npz files, and the device
    sources (frames store against on-the-fly integration)."""
    from eventpipe.bench.loader import device_table_rows, table_rows
    from eventpipe.bench.report import markdown_table

    cfg, size = result["config"], result["disk_bytes"]
    lines = [
        f"{cfg['samples']} samples of {cfg['frames']} frames 128x128 ({cfg['events_per_sample'] / 1e3:.0f} k events "
        f"each), batch {cfg['batch_size']}, huge pages {'on' if cfg['huge_pages'] else 'off'}.",
        "",
        markdown_table(table_rows(result)),
        "",
        f"- disk: frames store {size['frames_store'] / 1e6:.1f} MB, npz {size['npz_float64'] / 1e6:.1f} MB, "
        f"events store {size['events_store'] / 1e6:.1f} MB",
    ]
    for source, by_workers in result["speedup_vs_npz"].items():
        verdict = "meets" if result["meets_target"][source] else "misses"
        speedups = ", ".join(f"{s:.1f}x with {w} workers" for w, s in by_workers.items())
        lines.append(f"- {source} vs npz: {speedups} ({verdict} the {result['target_speedup']:.0f}x target)")
    lines += ["", f"The model's input on {result['device']['name']}: the frames store read and moved there, "
                  "against raw events packed per batch and integrated there (no frames store).", "",
              markdown_table(device_table_rows(result))]
    return "\n".join(lines)


def loader(
    ctx: typer.Context,
    users: Annotated[int, typer.Option(
        "--users", min=2, help="Synthetic users; the train split has (users - 1) x 22 samples of 20 frames, "
        "128x128.")] = 3,
    events_per_second: Annotated[float, typer.Option(
        "--events-per-second", min=1000, metavar="RATE", help="Event rate of the synthetic 6 s gestures.")] = 60_000.0,
    workers: Annotated[str, typer.Option(
        "--workers", metavar="N,N,...", help="DataLoader worker counts, comma separated.")] = "0,2",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="DataLoader batch size.")] = 16,
    epochs: Annotated[int, typer.Option(
        "--epochs", min=1, help="Timed passes per configuration (the best is kept).")] = 5,
    root: Annotated[Path | None, typer.Option(
        "--root", metavar="DIR", show_default=False,
        help="Keep the generated data here, reused by later runs (default: a temporary folder).")] = None,
    json_out: JsonOption = False,
    markdown: MarkdownOption = None,
) -> None:
    """Read a 20-frame 128x128 dataset through a DataLoader, in samples/s: the frames store against
    SpikingJelly-style npz files.

    Sources: the frames store with float32 and with uint8 items, SpikingJelly-style float64 npz
    files, and on-the-fly integration of the events store (target: frames store >= 3x npz); then,
    on a GPU when one is available, the frames store against events integrated on that device.
    """
    from eventpipe.bench.loader import run

    result = run(users=users, events_per_second=events_per_second, workers=parse_counts(workers),
                 batch_size=batch_size, epochs=epochs, root=root, progress=show_progress(ctx, json_out))
    emit(ctx, result, report(result), json_out=json_out, markdown=markdown)
