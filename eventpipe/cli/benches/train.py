"""``eventpipe bench train``: training samples/s of the DVS Gesture network (CPU; CUDA torch vs cupy)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from eventpipe.cli.commands.bench import bench_app
from eventpipe.cli.common import JsonOption


@bench_app.command("train")
def bench_train_command(
    channels: Annotated[int, typer.Option("--channels", min=1, help="Conv channels of DVSGestureNet")] = 128,
    frames: Annotated[int, typer.Option("--frames", "-T", min=1, help="Time steps per sample")] = 16,
    batch: Annotated[int, typer.Option("--batch", "-b", min=1, help="Samples per step")] = 16,
    size: Annotated[int, typer.Option("--size", min=32, help="Frame height and width, pixels")] = 128,
    steps: Annotated[int, typer.Option("--steps", min=1, help="Timed steps (median reported)")] = 3,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed steps first")] = 1,
    device: Annotated[str, typer.Option("--device", help="auto (CPU, plus CUDA torch and cupy when present), "
                                        "cpu, cuda, cuda:N")] = "auto",
    amp: Annotated[bool | None, typer.Option("--amp/--no-amp", help="Mixed precision (default: on CUDA only)",
                                             show_default=False)] = None,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="torch CPU threads")] = None,
    json_out: JsonOption = False,
) -> None:
    """Samples/s of full training steps (forward over T, loss, backward, Adam) of the DVS Gesture net."""
    from eventpipe.bench.report import format_table
    from eventpipe.bench.train import bench_train

    result = bench_train(channels=channels, frames=frames, batch=batch, size=size, steps=steps, warmup=warmup,
                         device=device, amp=amp, threads=threads)
    if json_out:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"DVSGestureNet(channels={channels}) training, T={frames}, batch {batch}, 2x{size}x{size}, "
               f"median of {steps} steps, {result['threads']} CPU threads")
    typer.echo(format_table(result["rows"]))
