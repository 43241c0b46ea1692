"""``eventpipe prepare NAME``: download, verify, convert and integrate a dataset, each step as needed
(a static image dataset: download or generate, verify, convert into its images store)."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer

from eventpipe.cli import integration
from eventpipe.cli.app import app
from eventpipe.cli.commands.convert import show_dashboard
from eventpipe.cli.common import (
    FLAGS,
    JsonOption,
    ManifestOption,
    RootOption,
    SchedulerOption,
    WorkersOption,
    resolve_root,
    show_progress,
)
from eventpipe.errors import EventpipeError


def _plugin_failed(ref: object, exc: Exception) -> EventpipeError:
    """The plugin's own exception in one line: its type, message and sample (the traceback with --debug)."""
    where = " ".join(getattr(exc, "__notes__", []))
    message = " ".join(str(exc).split()) or "(no message)"
    return EventpipeError(f"The --integrate plugin {ref} raised {type(exc).__name__}: {message}"
                          f"{' ' + where if where else ''}. Fix it and rerun: a store this run began was removed, a "
                          "resumed one keeps its finished blocks (--debug shows the traceback).")


def _summary(result: Any) -> str:
    spec_name = os.path.basename(result.store).removesuffix(".zarr") if result.store else "events store"
    lines = [f"{result.dataset} {spec_name}: {result.status}"]
    for step in result.steps:
        took = f"{step.seconds:6.1f} s" if step.seconds else " " * 8
        lines.append(f"  {step.step:<10} {step.status:<11} {took}  {step.detail}")
    if result.status != "dry-run" and result.store and result.spec is None:
        lines.append(f"  {result.bytes / 1e6:.1f} MB, {result.seconds:.1f} s in all")
    elif result.status != "dry-run" and result.store:
        splits = ", ".join(f"{s} {n}" for s, n in result.num_samples.items())
        lines.append(f"  {sum(result.num_samples.values())} samples ({splits}), {sum(result.num_frames.values())} "
                     f"frames, {result.bytes / 1e6:.1f} MB, {result.seconds:.1f} s in all")
    if result.store:
        lines.append(f"  store: {result.store}")
    return "\n".join(lines)


def _integration_flags(ctx: typer.Context) -> list[str]:
    """The integration options given on the command line or the environment (not left at their defaults)."""
    sources = {p.opts[0]: ctx.get_parameter_source(p.name) for p in ctx.command.params
               if p.name in integration.NAMES}
    return [flag for flag, source in sources.items() if source is not None and source.name in ("COMMANDLINE",
                                                                                                   "ENVIRONMENT")]


@app.command("prepare")
def prepare_command(
    ctx: typer.Context,
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
    voxel_grid: integration.VoxelGrid = None,
    time_surface: integration.TimeSurface = None,
    event_image: integration.EventImage = False,
    bina_rep: integration.BinaRep = None,
    exp_decay: integration.ExpDecay = None,
    tau: integration.Tau = None,
    n_bits: integration.NBits = 8,
    frames_dtype: integration.FramesDtype = None,
    duration_rule: integration.DurationRule = "aligned",
    filters: integration.Filter = None,
    root: RootOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what each step would do; change nothing.")] = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace a frames store with another fingerprint instead of refusing it.")] = False,
    dashboard: Annotated[bool, typer.Option(
        "--dashboard", help="Give the local Dask cluster a dashboard (on 127.0.0.1 only) and print its URL; "
        "work small enough to run in this process starts no cluster.")] = False,
    manifest: ManifestOption = None,
    json_out: JsonOption = False,
) -> None:
    """Make the frames store ROOT/NAME/frames/<spec>.zarr, running download, convert and integrate as needed.

    Every step is idempotent: finished work is kept, an interrupted run resumes, and a store made
    for other parameters or another source is never reused. One Dask task per block of samples.
    A user dataset (`eventpipe convert --from DIR --name NAME`) downloads nothing: its recordings are
    converted from their folder.

    A static image dataset (mnist, fashion-mnist, cifar10, demo-static) takes no integration options:
    prepare makes its images store ROOT/NAME/images.zarr, and a pipeline's encoder makes spikes.
    """
    from eventpipe.errors import ConfigError
    from eventpipe.pipeline.prepare import prepare, prepare_images
    from eventpipe.sources import get_dataset
    from eventpipe.sources.static import StaticImagesSpec

    data_root = resolve_root(root)
    dataset = get_dataset(name, data_root)
    if isinstance(dataset, StaticImagesSpec):
        if flags := _integration_flags(ctx):
            raise ConfigError(f"{dataset.name} holds static images: {', '.join(flags)} do not apply; static datasets "
                              f"take an encoder in the pipeline instead ([data] encoder = \"poisson\", steps = T): "
                              f"run `eventpipe prepare {dataset.name}` without integration options.")
        from eventpipe.datasets.static import convert_images

        result = prepare_images(dataset.name, data_root, convert_images, progress=show_progress(json_out),
                                dry_run=dry_run, overwrite=overwrite, manifest=manifest)
    else:
        spec = integration.spec_from_options(integration.given(locals()))
        try:
            result = prepare(name, data_root, spec, workers=workers, scheduler=scheduler,
                             progress=show_progress(json_out), dry_run=dry_run, overwrite=overwrite,
                             dashboard=show_dashboard if dashboard else None, manifest=manifest)
        except Exception as exc:
            if spec.fn is None or isinstance(exc, EventpipeError) or FLAGS.debug:
                raise
            raise _plugin_failed(integrate, exc) from exc
    typer.echo(json.dumps(result.to_dict()) if json_out else _summary(result))
