"""``eventpipe bench readers``: AEDAT 3.1 and ATIS decode throughput next to a memcpy bound."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from eventpipe.cli.commands.bench import bench_app
from eventpipe.cli.common import JsonOption, show_progress


@bench_app.command("readers")
def readers(
    size_mb: Annotated[float, typer.Option("--size-mb", min=1, help="Size of each generated file in MB.")] = 100.0,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Timed runs per method (best is kept).")] = 3,
    json_out: JsonOption = False,
) -> None:
    """Decode a generated AEDAT 3.1 file and an ATIS file; print M events/s per method."""
    from eventpipe.bench.readers import run, table_rows
    from eventpipe.bench.report import format_table

    result = run(size_mb=size_mb, repeat=repeat, progress=show_progress(json_out))
    if json_out:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(format_table(table_rows(result)))
    for fmt in result["formats"]:
        typer.echo(
            f"{fmt['format']}: {fmt['rows']['eventpipe']['M_events_per_s']:.0f} M events/s on 1 thread, "
            f"{fmt['ratio_to_memcpy']:.2f}x the memcpy rate (kernel alone {fmt['kernel_ratio_to_memcpy']:.2f}x), "
            f"{fmt['speedup_vs_numpy']:.1f}x the NumPy decoder"
        )
