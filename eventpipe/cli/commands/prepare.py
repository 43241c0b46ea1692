"""``eventpipe prepare NAME``: download, verify, convert and integrate a dataset, each step as needed."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer

from eventpipe.cli import integration
from eventpipe.cli.app import app
from eventpipe.cli.commands.convert import show_dashboard
from eventpipe.cli.common import (
    JsonOption,
    RootOption,
    SchedulerOption,
    WorkersOption,
    resolve_root,
    show_progress,
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
    name: Annotated[str, typer.Argument(metavar="NAME", help="Dataset name (see `eventpipe datasets`).")],
    frames: integration.Frames = None,
    split_by: integration.SplitBy = "number",
    duration: integration.Duration = None,
    events_per_frame: integration.EventsPerFrame = None,
    drop_incomplete: integration.DropIncomplete = False,
    integrate: integration.Integrate = None,
    n_time_bins: integration.NTimeBins = None,
    event_count: integration.EventCount = None,
    time_window: integration.TimeWindow = None,
    overlap: integration.Overlap = 0.0,
    include_incomplete: integration.IncludeIncomplete = False,
    root: RootOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what each step would do; change nothing.")] = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace a frames store with another fingerprint instead of refusing it.")] = False,
    dashboard: Annotated[bool, typer.Option(
        "--dashboard", help="Give the local Dask cluster a dashboard (on 127.0.0.1 only) and print its URL; "
        "work small enough to run in this process starts no cluster.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Make the frames store ROOT/NAME/frames/<spec>.zarr, running download, convert and integrate as needed.

    Every step is idempotent: finished work is kept, an interrupted run resumes, and a store made
    for other parameters or another source is never reused. One Dask task per block of samples.
    A user dataset (`eventpipe convert --from DIR --name NAME`) downloads nothing: its recordings are
    converted from their folder.
    """
    from eventpipe.pipeline.prepare import prepare

    spec = integration.spec_from_options(integration.given(locals()))
    result = prepare(name, resolve_root(root), spec, workers=workers, scheduler=scheduler,
                     progress=show_progress(json_out), dry_run=dry_run, overwrite=overwrite,
                     dashboard=show_dashboard if dashboard else None)
    typer.echo(json.dumps(result.to_dict()) if json_out else _summary(result))
