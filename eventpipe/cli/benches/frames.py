"""``eventpipe bench frames``: integration throughput per mode and events store -> frames store."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from eventpipe.cli.commands.bench import bench_app
from eventpipe.cli.common import JsonOption


def _targets(targets: dict[str, Any]) -> list[str]:
    lines = []
    for name, t in targets.items():
        value = "n/a" if t["value"] is None else f"{t['value']:.3g}"
        lines.append(f"  {name}: {value} (target {'>=' if name != 'bytes_ratio_to_npz' else '<='} {t['target']:g}) "
                     f"{'met' if t['met'] else 'NOT met'}")
    return lines


@bench_app.command("frames")
def frames(
    samples: Annotated[int, typer.Option("--samples", min=1, help="Gesture-like samples for the kernel section.")] = 3,
    store_samples: Annotated[int, typer.Option(
        "--store-samples", min=0, help="Samples for the events store -> frames store section (0 skips it).")] = 50,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Timed runs per kernel method (best is kept).")] = 5,
    store_repeat: Annotated[int, typer.Option(
        "--store-repeat", min=1, help="Frames stores built per worker count (fastest is kept).")] = 5,
    baseline: Annotated[bool, typer.Option(
        "--baseline/--no-baseline", help="Also run SpikingJelly's npz -> npz builder on the store samples.")] = True,
    json_out: JsonOption = False,
) -> None:
    """Integrate generated DVS128-Gesture-like samples (128x128, ~6 s, 0.3-1 M events) in every mode,
    next to SpikingJelly's bincount method and a memory-read bound; then build a frames store with
    1 and 2 workers."""
    from eventpipe.bench.frames import kernel_bench, store_bench
    from eventpipe.bench.report import format_table

    result: dict[str, Any] = {"kernels": kernel_bench(n_samples=samples, repeat=repeat)}
    if store_samples:
        result["store"] = store_bench(n_samples=store_samples, baseline=baseline, repeat=store_repeat)
    if json_out:
        typer.echo(json.dumps(result, indent=2))
        return
    k = result["kernels"]
    typer.echo(f"{k['samples']} samples, {k['events'] / 1e6:.2f} M events; read bound "
               f"{k['read_bound_M_events_per_s']:.0f} M events/s ({k['read_bound_GB_per_s']:.1f} GB/s)")
    rows = [{
        "mode": r["mode"], "frames": r["frames"], "eventpipe Mev/s": r["eventpipe_M_events_per_s"],
        "bincount Mev/s": r["bincount_M_events_per_s"], "numpy Mev/s": r["numpy_vectorised_M_events_per_s"],
        "x bincount": r["speedup_vs_bincount"], "of read bound": r["fraction_of_read_bound"],
    } for r in k["modes"]]
    typer.echo(format_table(rows))
    typer.echo("\n".join(_targets(k["targets"])))
    if "store" in result:
        s = result["store"]
        typer.echo(f"\nevents store -> frames store ({s['spec']}): {s['samples']} samples, {s['events'] / 1e6:.1f} M events")
        runs = [{"workers": r["workers"], "seconds": r["seconds"], "samples/s": r["samples_per_s"],
                 "M events/s": r["M_events_per_s"], "cores busy": r["cores_busy"]} for r in s["runs"]]
        if "spikingjelly_builder" in s:
            b = s["spikingjelly_builder"]
            runs.append({"workers": f"{b['workers']} (SpikingJelly npz)", "seconds": b["seconds"],
                         "samples/s": b["samples_per_s"], "M events/s": s["events"] / b["seconds"] / 1e6})
        typer.echo(format_table(runs))
        typer.echo(f"  frames store {s['frames_store_bytes'] / 1e6:.1f} MB; stores identical across workers: "
                   f"{s['identical_stores']}")
        if "machine_speedup_1_to_2" in s:
            typer.echo(f"  the machine itself, 1 -> 2 cores (the same reads and integration, in memory): "
                       f"{s['machine_speedup_1_to_2']:.2f}x; workers got {s.get('scaling_efficiency', 0):.0%} of it")
        typer.echo("\n".join(_targets(s["targets"])))
