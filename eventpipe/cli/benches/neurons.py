"""``eventpipe bench neurons``: fused LIF forward + backward vs a per-step autograd loop (CuPy on a GPU)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from eventpipe.cli.commands.bench import bench_app
from eventpipe.cli.common import JsonOption


@bench_app.command("neurons")
def neurons(
    small: Annotated[
        bool, typer.Option("--small", help="Use [T=20, N=2, C=64, H=32, W=32] instead of N=16, C=128.")
    ] = False,
    shape: Annotated[
        str | None,
        typer.Option("--shape", help="Explicit T,N,C,H,W (e.g. 20,16,128,32,32); overrides --small."),
    ] = None,
    repeat: Annotated[
        int, typer.Option("--repeat", min=1, help="Timed repetitions per variant (best reported).")
    ] = 3,
    gpu: Annotated[
        bool, typer.Option("--gpu/--no-gpu", help="Also run the GPU section when CUDA is present.")
    ] = True,
    json_: JsonOption = False,
) -> None:
    """LIF forward + backward over T: torch fused vs an autograd step loop (CPU), CuPy vs torch (GPU)."""
    from eventpipe.bench.neurons import FULL_SHAPE, SMALL_SHAPE, bench_neurons
    from eventpipe.bench.report import format_table
    from eventpipe.errors import ConfigError

    dims: tuple[int, ...] = SMALL_SHAPE if small else FULL_SHAPE
    if shape is not None:
        try:
            dims = tuple(int(v) for v in shape.split(","))
        except ValueError:
            raise ConfigError(
                f"Expected --shape as five positive integers T,N,C,H,W. Got {shape!r} instead."
            ) from None
    result = bench_neurons(dims, repeat=repeat, gpu=gpu)
    if json_:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"{result['neuron']} on [T, N, C, H, W] = {result['shape']}, forward + backward")
    typer.echo(
        format_table(result["rows"], ["device", "backend", "dtype", "ms", "GB/s", "of_peak", "speedup"])
    )
    if result["cpu_speedup"] is not None:
        typer.echo(f"CPU: torch fused is {result['cpu_speedup']:.2f}x faster than the per-step autograd loop")
    if result["gpu"] is not None:
        typer.echo(
            "GPU: "
            + ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in result["gpu"].items()
            )
        )
