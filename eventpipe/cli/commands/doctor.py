"""``eventpipe doctor``: the CUDA stack, each neuron backend's availability and parity, and what to fix."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from eventpipe.cli.app import app
from eventpipe.cli.common import JsonOption


@app.command("doctor")
def doctor_command(
    json_out: JsonOption = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with status 1 when a problem is found.")
    ] = False,
) -> None:
    """Report Python, PyTorch and its CUDA build, the devices and driver, CuPy and NVRTC, Triton and the
    host compiler, then check every neuron backend against the torch backend and say what to install."""
    from eventpipe.snn.doctor import diagnose

    report = diagnose()
    typer.echo(json.dumps(report) if json_out else _text(report))
    if strict and report["problems"]:
        raise typer.Exit(1)


def _text(report: dict[str, Any]) -> str:
    tinfo, cupy = report["torch"], report["cupy"]
    lines = [
        f"python:   {report['python']}",
        f"torch:    {tinfo['version']} (CUDA build: {tinfo['built_with_cuda'] or 'none'}, "
        f"cuda available: {tinfo['cuda_available']})",
        *(
            f"device {d['index']}: {d['name']}, capability {d['capability']}, {d['memory_GiB']} GiB"
            for d in tinfo["devices"]
        ),
        f"driver:   {report['driver'] or 'none'}"
        + (f" (supports CUDA {cupy['driver_cuda']})" if cupy.get("driver_cuda") else ""),
        f"cupy:     {cupy['version'] or ('broken' if cupy['installed'] else 'not installed')}"
        + (
            f" ({cupy['package']}, CUDA runtime {cupy['runtime'] or 'not loaded'}, "
            f"NVRTC {cupy['nvrtc_version'] or 'not loaded'}: {cupy['nvrtc']})"
            if cupy["nvrtc"] is not None
            else ""
        ),
        f"triton:   {report['triton'] or 'not installed'}",
        f"compiler: {report['compiler'] or 'none'}",
        "",
    ]
    for name, entry in report["backends"].items():
        check = entry["check"]
        if not entry["available"]:
            state = f"unavailable: {entry['reason']}"
        elif "error" in check:
            state = f"FAILED on {check['device']}: {check['error']}"
        else:
            state = (
                f"{'ok' if check['ok'] else 'MISMATCH'} on {check['device']} (spikes equal: "
                f"{check['spikes_equal']}, max gradient difference {check['max_grad_diff']:.3g})"
            )
        lines.append(f"backend {name}: {state}")
    lines.append("")
    lines.extend(f"problem: {p}" for p in report["problems"])
    if not report["problems"]:
        lines.append("no problems found")
    return "\n".join(lines)
