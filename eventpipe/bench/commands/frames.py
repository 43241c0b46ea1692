"""``eventpipe bench frames``: integration throughput per mode and events store -> frames store."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from eventpipe.bench.options import JsonOption, MarkdownOption, emit


def _kernels(k: dict[str, Any]) -> list[str]:
    from eventpipe.bench.report import markdown_table, target_lines

    sj = k["spikingjelly"]
    rows = [{
        "mode": r["mode"], "events": path, "frames": r["frames"], "eventpipe Mev/s": r[f"eventpipe{suffix}_M_events_per_s"],
        **({"SpikingJelly Mev/s": r["spikingjelly_M_events_per_s"],
            "x SpikingJelly": r[f"speedup_vs_spikingjelly{suffix}"]} if sj else {}),
        **({"bincount Mev/s": r["bincount_M_events_per_s"], "numpy Mev/s": r["numpy_vectorised_M_events_per_s"],
            "x bincount": r["speedup_vs_bincount"]} if not suffix else {}),
        "of read bound": r[f"fraction_of_read_bound{suffix}"],
    } for r in k["modes"] for path, suffix in (("from a store", ""), ("checked", "_checked"))]
    return [
        f"{k['samples']} samples, {k['events'] / 1e6:.2f} M events, median of {k['repeat']} rounds; "
        f"{sj or 'SpikingJelly not installed'}; memory read {k['memory_read_GB_per_s']:.1f} GB/s, so the "
        f"read bound is {k['read_bound_M_events_per_s']:.0f} M events/s.",
        "",
        "Rows 'from a store' integrate as `prepare` does on events read from an events store (checked sorted "
        "and inside the sensor when the store was written, so the order of t is not checked again); the "
        "targets are of these rows. Rows 'checked' check every event, as `integrate()` does on a user's arrays.",
        "",
        markdown_table(rows),
        "",
        *target_lines(k["targets"]),
    ]


def _store(s: dict[str, Any]) -> list[str]:
    from eventpipe.bench.report import markdown_table, target_lines

    runs = [{"workers": r["workers"], "seconds": r["seconds"], "samples/s": r["samples_per_s"],
             "M events/s": r["M_events_per_s"], "cores busy": r["cores_busy"]} for r in s["runs"]]
    if "spikingjelly_builder" in s:
        b = s["spikingjelly_builder"]
        runs.append({"workers": f"{b['workers']} (SpikingJelly npz)", "seconds": b["seconds"],
                     "samples/s": b["samples_per_s"], "M events/s": s["events"] / b["seconds"] / 1e6})
    lines = [
        f"Events store -> frames store ({s['spec']}): {s['samples']} samples, {s['events'] / 1e6:.1f} M events.",
        "",
        markdown_table(runs),
        "",
        f"- frames store {s['frames_store_bytes'] / 1e6:.1f} MB; stores identical across workers: "
        f"{s['identical_stores']}",
    ]
    if "machine_speedup_1_to_2" in s:
        lines.append(f"- the machine itself, 1 -> 2 cores (the same reads and integration, in memory): "
                     f"{s['machine_speedup_1_to_2']:.2f}x; workers got {s.get('scaling_efficiency', 0):.0%} of it")
    return lines + target_lines(s["targets"])


def report(result: dict[str, Any]) -> str:
    """The Markdown of the kernel section and, when run, the store section of ``bench frames``."""
    lines = _kernels(result["kernels"])
    if "store" in result:
        lines += ["", *_store(result["store"])]
    return "\n".join(lines)


def frames(
    ctx: typer.Context,
    samples: Annotated[int, typer.Option(
        "--samples", min=1, help="Gesture-like samples for the kernel section.")] = 3,
    store_samples: Annotated[int, typer.Option(
        "--store-samples", min=0, help="Samples for the events store -> frames store section (0 skips it).")] = 50,
    events: Annotated[int | None, typer.Option(
        "--events", min=1000, help="Events per kernel sample (default: spread over 0.3-1 M).")] = None,
    repeat: Annotated[int, typer.Option(
        "--repeat", min=1, help="Timed rounds over the kernel methods (the median is kept).")] = 5,
    store_repeat: Annotated[int, typer.Option(
        "--store-repeat", min=1, help="Frames stores built per worker count (the fastest is kept).")] = 5,
    baseline: Annotated[bool, typer.Option(
        "--baseline/--no-baseline", help="Also run SpikingJelly's npz -> npz builder on the store samples.")] = True,
    json_out: JsonOption = False,
    markdown: MarkdownOption = None,
) -> None:
    """Integrate generated DVS128-Gesture-like samples in every mode, then build a frames store with 1
    and 2 workers.

    Samples are 128x128, about 6 s and 0.3-1 M events each (or --events each in the kernel
    section). The kernels run next to SpikingJelly's own integration functions (when it is installed),
    its bincount method and a memory-read bound; the store next to the machine's own 1 -> 2 core scaling
    and SpikingJelly's npz builder.
    """
    from eventpipe.bench.frames import kernel_bench, store_bench

    result: dict[str, Any] = {"kernels": kernel_bench(
        n_samples=samples, events=(events, events) if events else (300_000, 1_000_000), repeat=repeat)}
    if store_samples:
        result["store"] = store_bench(n_samples=store_samples, baseline=baseline, repeat=store_repeat)
    emit(ctx, result, report(result), json_out=json_out, markdown=markdown)
