"""``eventpipe bench neurons``: LIF forward + backward in both step modes against SpikingJelly (or a per-step
autograd loop) on the CPU; the GPU backends on a GPU."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from eventpipe.bench.options import JsonOption, MarkdownOption, emit


def parse_shape(shape: str) -> tuple[int, ...]:
    """``"20,16,128,32,32"`` -> ``(20, 16, 128, 32, 32)``: the ``T,N,...`` of ``--shape``."""
    from eventpipe.errors import ConfigError

    try:
        return tuple(int(v) for v in shape.split(","))
    except ValueError:
        raise ConfigError(f"Expected --shape as positive integers T,N,... (e.g. T,N,C,H,W). Got {shape!r} instead.") from None


def report(result: dict[str, Any]) -> str:
    """The Markdown of a :func:`eventpipe.bench.neurons.bench_neurons` result: time and bandwidth per
    backend, and each CPU path as a multiple of its baseline."""
    from eventpipe.bench.report import markdown_table

    lines = [
        f"{result['neuron']} on [T, N, ...] = {result['shape']}, forward + backward.",
        "",
        markdown_table(
            result["rows"],
            ["shape", "device", "backend", "dtype", "ms", "GB/s", "of_peak", "of_spec_peak", "vs_baseline", "speedup",
             "vs_torch"],
        ),
        "",
    ]
    cpu = result.get("cpu")
    if cpu is not None:
        load = ", ".join(f"{v:.2f}" for v in cpu["load_average"])
        lines.append(f"- CPU: {cpu['threads']} threads, load average {load}; baseline: {cpu['baseline']}")
        for mode, paths in cpu["vs_baseline"].items():
            lines.append(f"- {mode}: " + ", ".join(f"{p} {r:.2f}x" for p, r in paths.items()) + " the baseline's speed")
    if result["cpu_speedup"] is not None:
        lines.append(f"- CPU: torch fused is {result['cpu_speedup']:.2f}x faster than the per-step autograd loop")
    if result["gpu"] is not None:
        lines.append("- GPU: " + ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in result["gpu"].items()))
    return "\n".join(lines)


def neurons(
    ctx: typer.Context,
    small: Annotated[bool, typer.Option(
        "--small", help="Use [T=20, N=2, C=64, H=32, W=32] instead of N=16, C=128.")] = False,
    shape: Annotated[str | None, typer.Option(
        "--shape", metavar="T,N,C,H,W", show_default=False,
        help="Explicit shape, e.g. 20,16,128,32,32; overrides --small.")] = None,
    repeat: Annotated[int, typer.Option(
        "--repeat", min=1, help="Timed repetitions per variant (the best is reported).")] = 3,
    gpu: Annotated[bool, typer.Option("--gpu/--no-gpu", help="Also run the GPU section when CUDA is present.")] = True,
    gpu_suite: Annotated[bool, typer.Option(
        "--gpu-suite", help="Time the GPU section on [T=16, N=64, C=65536] and on every neuron layer of the "
        "DVS Gesture net (T=16, N=16) as well as on the shape.")] = False,
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, show_default=False, help="CPU threads (torch.set_num_threads; default: PyTorch's).")] = None,
    baseline: Annotated[bool, typer.Option(
        "--spikingjelly/--no-spikingjelly",
        help="Time SpikingJelly as the CPU baseline when installed (else the per-step autograd loop).")] = True,
    json_out: JsonOption = False,
    markdown: MarkdownOption = None,
) -> None:
    """LIF forward + backward over T: both step modes against SpikingJelly or an autograd step loop (CPU), every
    GPU backend against torch in float32 and float16 with its fraction of the peak memory bandwidth (GPU)."""
    import torch

    from eventpipe.bench.neurons import FULL_SHAPE, GPU_SHAPE, SMALL_SHAPE, bench_neurons, gesture_shapes

    dims = parse_shape(shape) if shape is not None else SMALL_SHAPE if small else FULL_SHAPE
    gpu_shapes = [GPU_SHAPE, *gesture_shapes()] if gpu_suite else None
    if threads is not None:
        torch.set_num_threads(threads)
    result = bench_neurons(dims, repeat=repeat, gpu=gpu, gpu_shapes=gpu_shapes, baseline=baseline)
    emit(ctx, result, report(result), json_out=json_out, markdown=markdown)
