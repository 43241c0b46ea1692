"""``eventpipe bench online``: autograd memory and time of FPTT and OTTT against BPTT for several ``T``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from eventpipe.bench.options import JsonOption, MarkdownOption, emit


def report(result: dict[str, Any]) -> str:
    """The Markdown of a :func:`eventpipe.bench.online.bench_online` result: a row per mode and ``T``, and
    each mode's growth of memory from the shortest to the longest ``T``."""
    from eventpipe.bench.report import markdown_table

    lo, hi = min(result["frames"]), max(result["frames"])
    peak = {(r["mode"], r["T"]): r["peak_saved_MiB"] for r in result["rows"]}
    growth = [f"- {mode}: peak autograd memory at T={hi} is {peak[mode, hi] / max(peak[mode, lo], 1e-9):.2f}x "
              f"that at T={lo}" for mode in dict.fromkeys(r["mode"] for r in result["rows"])]
    return "\n".join([
        f"One training sequence of the demo-size DVS Gesture net ({result['channels']} channels, 3 blocks, "
        f"{result['size']}x{result['size']} input, hidden {result['hidden']}), batch {result['batch']}, "
        f"{result['threads']} CPU threads; memory = peak bytes saved by autograd for the backward pass.",
        "",
        markdown_table(result["rows"]),
        "",
        *growth,
    ])


def online(
    ctx: typer.Context,
    frames: Annotated[list[int] | None, typer.Option(
        "--frames", "-T", min=1, show_default=False, help="Time steps per sequence (repeatable; default: 8 and 32).")] = None,
    batch: Annotated[int, typer.Option("--batch", "-b", min=1, help="Samples per sequence.")] = 8,
    channels: Annotated[int, typer.Option("--channels", min=1, help="Conv channels.")] = 16,
    size: Annotated[int, typer.Option("--size", min=8, metavar="PIXELS", help="Frame height and width.")] = 32,
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, show_default=False, help="torch CPU threads (default: torch's own).")] = None,
    json_out: JsonOption = False,
    markdown: MarkdownOption = None,
) -> None:
    """Peak autograd memory and time of online training (FPTT, OTTT) against BPTT, for T = 8 and 32:
    constant in T for the online modes, growing with T for BPTT."""
    from eventpipe.bench.online import bench_online

    result = bench_online(frames=tuple(frames) if frames else (8, 32), batch=batch, channels=channels, size=size,
                          threads=threads)
    emit(ctx, result, report(result), json_out=json_out, markdown=markdown)
