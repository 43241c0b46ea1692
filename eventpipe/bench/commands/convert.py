"""``eventpipe bench convert``: raw DVS128-Gesture-format files -> events store, 1 vs 2 workers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from eventpipe.bench.options import JsonOption, MarkdownOption, emit, show_progress


def report(result: dict[str, Any]) -> str:
    """The Markdown of a :func:`eventpipe.bench.convert.run` result: conversion rates next to the
    SpikingJelly-style build, store bytes per event, and the targets."""
    from eventpipe.bench.convert import table_rows
    from eventpipe.bench.report import markdown_table, target_lines

    return "\n".join([
        markdown_table(table_rows(result)),
        "",
        f"- {result['recordings']} recordings, {result['events'] / 1e6:.1f} M events, {result['samples']} samples; "
        f"store {result['store_bytes_per_event']:.2f} B/event vs npz {result['npz_per_sample']['bytes_per_event']:.2f}",
        *target_lines(result["targets"]),
    ])


def convert(
    ctx: typer.Context,
    recordings: Annotated[int, typer.Option(
        "--recordings", min=1, help="Recordings to generate, each about 10 M events and 80 MB (the real dataset "
        "has 122).")] = 12,
    repeat: Annotated[int, typer.Option(
        "--repeat", min=1, help="Timed runs per worker count (the best is kept).")] = 2,
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", metavar="DIR", show_default=False,
        help="Keep the generated recordings here and reuse them next time (default: a temporary folder).")] = None,
    json_out: JsonOption = False,
    markdown: MarkdownOption = None,
) -> None:
    """Generate Gesture-format recordings and convert them with 1 and 2 workers; print M events/s and
    the speedup.

    The baseline, SpikingJelly's per-event Python decoding and per-sample npz files, is timed on the
    first recording in the same run.
    """
    from eventpipe.bench.convert import run

    result = run(recordings=recordings, repeat=repeat, workdir=workdir, progress=show_progress(ctx, json_out))
    emit(ctx, result, report(result), json_out=json_out, markdown=markdown)
