"""``eventpipe bench readers``: AEDAT 3.1, ATIS, text and HDF5 decode throughput next to a memcpy bound."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from eventpipe.bench.options import JsonOption, MarkdownOption, emit, show_progress


def report(result: dict[str, Any]) -> str:
    """The Markdown of a :func:`eventpipe.bench.readers.run` result: the rates of every method, then
    each format's decoder as a fraction of the memcpy rate and as a multiple of the NumPy decoder."""
    from eventpipe.bench.readers import table_rows
    from eventpipe.bench.report import markdown_table

    lines = [markdown_table(table_rows(result)), ""]
    for fmt in result["formats"]:
        kernel = fmt["kernel_ratio_to_memcpy"]
        lines.append(
            f"- {fmt['format']}: {fmt['rows']['eventpipe']['M_events_per_s']:.0f} M events/s on 1 thread, "
            f"{fmt['ratio_to_memcpy']:.2f}x the memcpy rate"
            + (f" (kernel alone {kernel:.2f}x)" if kernel is not None else "")
            + f", {fmt['speedup_vs_numpy']:.1f}x the NumPy decoder"
        )
    return "\n".join(lines)


def readers(
    ctx: typer.Context,
    size_mb: Annotated[float, typer.Option(
        "--size-mb", min=1, metavar="MB", help="Size of each generated file, in MB.")] = 100.0,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Timed runs per method (the best is kept).")] = 3,
    json_out: JsonOption = False,
    markdown: MarkdownOption = None,
) -> None:
    """Decode generated AEDAT 3.1, ATIS, text (ETH layout) and HDF5 (DSEC layout) files; print M events/s
    per method.

    Methods: eventpipe's reader end to end, its decoding kernel alone, a NumPy decoder (numpy.loadtxt
    for text, whole h5py datasets for HDF5), a memcpy of the same bytes and a file read, all
    single-threaded and timed on CPU time.
    """
    from eventpipe.bench.readers import run

    result = run(size_mb=size_mb, repeat=repeat, progress=show_progress(ctx, json_out))
    emit(ctx, result, report(result), json_out=json_out, markdown=markdown)
