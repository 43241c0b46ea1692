"""``eventpipe prepare NAME``: download, verify, convert and integrate a dataset, each step as needed."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Annotated, Any

import typer

from eventpipe.cli.common import (
    JsonOption,
    RootOption,
    SchedulerOption,
    WorkersOption,
    resolve_root,
    show_progress,
)
from eventpipe.cli.main import app

_UNITS_US = {"us": 1, "µs": 1, "ms": 1_000, "s": 1_000_000}


def parse_duration(text: str) -> int:
    """``"10ms"`` -> 10000: a duration with a unit (``us``/``µs``, ``ms``, ``s``) in whole microseconds.

    >>> parse_duration("10ms"), parse_duration("500us"), parse_duration("1.5s")
    (10000, 500, 1500000)
    """
    from eventpipe.errors import ConfigError

    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|µs|ms|s)\s*", text)
    if match is None:
        raise ConfigError(f"Expected --duration as a number with a unit in {{us, ms, s}}, e.g. 10ms. Got {text!r} instead.")
    value = float(match.group(1)) * _UNITS_US[match.group(2)]
    if value < 1 or value != int(value):
        raise ConfigError(f"Expected --duration to be a whole number of microseconds >= 1. Got {text!r} ({value:g} µs).")
    return int(value)


def build_spec(
    frames: int | None, split_by: str, duration: str | None, events_per_frame: int | None, integrate: str | None,
    drop_incomplete: bool = False,
) -> Any:
    """The :class:`~eventpipe.frames.IntegrationSpec` of the command line (exactly one mode option)."""
    from eventpipe.errors import ConfigError
    from eventpipe.frames import IntegrationSpec

    given = [o for o, v in (("--frames", frames), ("--duration", duration), ("--events-per-frame", events_per_frame),
                            ("--integrate", integrate)) if v is not None]
    if len(given) != 1:
        raise ConfigError(
            "Expected exactly one of --frames M, --duration 10ms, --events-per-frame K, --integrate module:function. "
            f"Got {', '.join(given) if given else 'none'}."
        )
    if split_by != "number" and frames is None:
        raise ConfigError("--split-by applies only with --frames.")
    if drop_incomplete and events_per_frame is None:
        raise ConfigError("--drop-incomplete applies only with --events-per-frame.")
    if integrate is not None and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # `--integrate mymodule:fn` finds mymodule.py here, as `python -m` would
    return IntegrationSpec(
        frames=frames,
        split_by=split_by,
        duration_us=parse_duration(duration) if duration is not None else None,
        events_per_frame=events_per_frame,
        fn=integrate,
        drop_incomplete=drop_incomplete,
    )


def _summary(result: Any) -> str:
    spec_name = os.path.basename(result.store).removesuffix(".zarr") if result.store else "events store"
    lines = [f"{result.dataset} {spec_name}: {result.status}"]
    for step in result.steps:
        took = f"{step.seconds:6.1f} s" if step.seconds else " " * 8
        lines.append(f"  {step.step:<10} {step.status:<11} {took}  {step.detail}")
    if result.status != "dry-run" and result.store:
        splits = ", ".join(f"{s} {n}" for s, n in result.num_samples.items())
        lines.append(f"  {sum(result.num_samples.values())} samples ({splits}), {sum(result.num_frames.values())} "
                     f"frames, {result.bytes / 1e6:.1f} MB, {result.seconds:.1f} s in all")
    if result.store:
        lines.append(f"  store: {result.store}")
    return "\n".join(lines)


@app.command("prepare")
def prepare_command(
    name: Annotated[str, typer.Argument(help="Dataset name (see `eventpipe datasets`).")],
    frames: Annotated[int | None, typer.Option("--frames", min=1, help="Fixed number of frames per sample.",
                                               show_default=False)] = None,
    split_by: Annotated[str, typer.Option("--split-by", help="With --frames: split by event 'number' or by 'time'.")]
    = "number",
    duration: Annotated[str | None, typer.Option("--duration", help="Fixed frame duration with a unit: 10ms, 500us, 1s.",
                                                 show_default=False)] = None,
    events_per_frame: Annotated[int | None, typer.Option("--events-per-frame", min=1, help="Fixed events per frame.",
                                                         show_default=False)] = None,
    drop_incomplete: Annotated[bool, typer.Option(
        "--drop-incomplete", help="With --events-per-frame: drop each sample's final partial frame.")] = False,
    integrate: Annotated[str | None, typer.Option(
        "--integrate", help="Plugin fn(events, H, W) -> [T, P, H, W] as module:function, or the name of an "
        "`eventpipe.integrators` entry point.", show_default=False)] = None,
    root: RootOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what each step would do; change nothing.")] = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace a frames store with another fingerprint instead of refusing it.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Make the frames store ROOT/NAME/frames/<spec>.zarr, running download, convert and integrate as needed.

    Every step is idempotent: finished work is kept, an interrupted run resumes, and a store made
    for other parameters or another source is never reused. One Dask task per block of samples.
    """
    from eventpipe.pipeline.prepare import prepare

    spec = build_spec(frames, split_by, duration, events_per_frame, integrate, drop_incomplete)
    result = prepare(name, resolve_root(root), spec, workers=workers, scheduler=scheduler,
                     progress=show_progress(json_out), dry_run=dry_run, overwrite=overwrite)
    typer.echo(json.dumps(result.to_dict()) if json_out else _summary(result))
