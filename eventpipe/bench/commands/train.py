"""``eventpipe bench train``: training samples/s of the DVS Gesture net and a spiking ResNet-18 (CPU; CUDA
torch vs cupy)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from eventpipe.bench.options import JsonOption, MarkdownOption, emit


def report(result: dict[str, Any]) -> str:
    """The Markdown of a :func:`eventpipe.bench.train.bench_train` result: one row per model, device and backend."""
    from eventpipe.bench.report import markdown_table

    return "\n".join([
        f"Training on 2x{result['size']}x{result['size']} event frames, T={result['frames']}, batch "
        f"{result['batch']}, median of {result['steps']} steps, {result['threads']} CPU threads.",
        "",
        markdown_table(result["rows"]),
    ])


def train(
    ctx: typer.Context,
    models: Annotated[list[str] | None, typer.Option(
        "--model", "-m", metavar="NAME", show_default=False,
        help="A model to time, as a pipeline's model section names it (repeatable; default: DVSGestureNet and "
             "spiking_resnet18).")] = None,
    channels: Annotated[int, typer.Option("--channels", min=1, help="Conv channels of DVSGestureNet.")] = 128,
    frames: Annotated[int, typer.Option("--frames", "-T", min=1, help="Time steps per sample.")] = 16,
    batch: Annotated[int, typer.Option("--batch", "-b", min=1, help="Samples per step.")] = 16,
    size: Annotated[int, typer.Option("--size", min=32, metavar="PIXELS", help="Frame height and width.")] = 128,
    steps: Annotated[int, typer.Option("--steps", min=1, help="Timed steps (the median is reported).")] = 3,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed steps first.")] = 1,
    device: Annotated[str, typer.Option(
        "--device", metavar="DEVICE", help="auto (the CPU, plus CUDA with torch and cupy when present), cpu, cuda "
        "or cuda:N.")] = "auto",
    amp: Annotated[bool | None, typer.Option(
        "--amp/--no-amp", show_default=False, help="Mixed precision (default: on CUDA only).")] = None,
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, show_default=False, help="torch CPU threads (default: torch's own).")] = None,
    json_out: JsonOption = False,
    markdown: MarkdownOption = None,
) -> None:
    """Samples/s of full training steps of the DVS Gesture net and a spiking ResNet-18 on event frames:
    forward over T, loss, backward, Adam."""
    from eventpipe.bench.train import MODELS, bench_train

    result = bench_train(models=tuple(models) if models else MODELS, channels=channels, frames=frames, batch=batch,
                         size=size, steps=steps, warmup=warmup, device=device, amp=amp, threads=threads)
    emit(ctx, result, report(result), json_out=json_out, markdown=markdown)
