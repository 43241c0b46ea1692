"""``eventpipe bench transforms``: every event filter next to tonic's, on the same events."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from eventpipe.bench.options import JsonOption, MarkdownOption, emit


def report(result: dict[str, Any]) -> str:
    """The Markdown of a :func:`eventpipe.bench.transforms.run` result: one row per filter, then the targets."""
    from eventpipe.bench.report import markdown_table, target_lines

    rows = [{
        "filter": r["filter"], "eventpipe ms": r["eventpipe_ms"], "tonic ms": r["tonic_ms"],
        "eventpipe Mev/s": r["eventpipe_M_events_per_s"], "tonic Mev/s": r["tonic_M_events_per_s"],
        "x tonic": r["speedup_vs_tonic"],
        "same events": {True: "yes", False: "no", None: "random"}[r["equal_to_tonic"]],
    } for r in result["rows"]]
    return "\n".join([
        f"One Gesture-like sample, {result['events'] / 1e6:.2f} M events; CPU time of one thread, "
        f"best of {result['repeat']} (tonic's per-event loops once).",
        "",
        markdown_table(rows),
        "",
        *target_lines(result["targets"]),
    ])


def transforms(
    ctx: typer.Context,
    events: Annotated[int, typer.Option("--events", min=1, help="Events in the Gesture-like sample.")] = 1_000_000,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Timed runs per filter (the best is kept).")] = 3,
    json_out: JsonOption = False,
    markdown: MarkdownOption = None,
) -> None:
    """Run every event filter (denoise, refractory period, drops, jitters, noise, time skew, crop,
    downsample) on one generated DVS128-Gesture-like sample, next to tonic's transforms.

    Deterministic filters are checked equal to tonic's result first; random ones are timed only.
    """
    from eventpipe.bench.transforms import run

    result = run(n_events=events, repeat=repeat)
    emit(ctx, result, report(result), json_out=json_out, markdown=markdown)
