"""The integration options of ``eventpipe prepare`` and ``eventpipe show``, declared once.

The command line only collects them under the field names of
:class:`~eventpipe.frames.IntegrationSpec` and hands them to
:func:`~eventpipe.frames.integration_spec`, which validates them for every surface alike.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

PANEL = "Integration (choose one mode)"

Frames = Annotated[int | None, typer.Option(
    "--frames", metavar="M", show_default=False, rich_help_panel=PANEL,
    help="Mode: M frames per sample, split by --split-by.")]
SplitBy = Annotated[str, typer.Option(
    "--split-by", metavar="number|time", rich_help_panel=PANEL,
    help="With --frames: equal event counts ('number') or equal durations ('time').")]
Duration = Annotated[str | None, typer.Option(
    "--duration", metavar="DURATION", show_default=False, rich_help_panel=PANEL,
    help="Mode: frames of a fixed duration with a unit (10ms, 500us, 1s); T varies per sample.")]
EventsPerFrame = Annotated[int | None, typer.Option(
    "--events-per-frame", metavar="K", show_default=False, rich_help_panel=PANEL,
    help="Mode: frames of K events each.")]
DropIncomplete = Annotated[bool, typer.Option(
    "--drop-incomplete", rich_help_panel=PANEL,
    help="With --events-per-frame: drop each sample's final partial frame.")]
Integrate = Annotated[str | None, typer.Option(
    "--integrate", metavar="MODULE:FUNCTION", show_default=False, rich_help_panel=PANEL,
    help="Mode: a plugin fn(events, H, W) -> [T, P, H, W], as module:function or the name of an "
    "eventpipe.integrators entry point. module:function imports and runs your code: the current folder is "
    "put first on the import path (as python -m does) when it is not on it yet, and a pipeline TOML resolves "
    "the module the same way.")]
NTimeBins = Annotated[int | None, typer.Option(
    "--n-time-bins", metavar="M", show_default=False, rich_help_panel=PANEL,
    help="Mode: tonic's ToFrame(n_time_bins=M).")]
EventCount = Annotated[int | None, typer.Option(
    "--event-count", metavar="K", show_default=False, rich_help_panel=PANEL,
    help="Mode: tonic's ToFrame(event_count=K).")]
TimeWindow = Annotated[str | None, typer.Option(
    "--time-window", metavar="DURATION", show_default=False, rich_help_panel=PANEL,
    help="Mode: tonic's ToFrame(time_window=...), a duration with a unit (50ms, 500us, 1s).")]
Overlap = Annotated[float, typer.Option(
    "--overlap", metavar="X", rich_help_panel=PANEL,
    help="With --n-time-bins: a fraction of a bin; with --event-count: whole events; with --time-window, "
    "--time-surface or --exp-decay: µs (a plain number).")]
IncludeIncomplete = Annotated[bool, typer.Option(
    "--include-incomplete", rich_help_panel=PANEL,
    help="With --event-count, --time-window, --time-surface or --exp-decay: keep the final partial window.")]

VoxelGrid = Annotated[int | None, typer.Option(
    "--voxel-grid", metavar="M", show_default=False, rich_help_panel=PANEL,
    help="Mode: tonic's voxel grid, M bins bilinear in time, one signed channel (floats).")]
TimeSurface = Annotated[str | None, typer.Option(
    "--time-surface", metavar="DURATION", show_default=False, rich_help_panel=PANEL,
    help="Mode: tonic's time surfaces every DURATION (with --tau; floats).")]
EventImage = Annotated[bool, typer.Option(
    "--event-image", rich_help_panel=PANEL, help="Mode: tonic's ToImage, one count frame of every event.")]
BinaRep = Annotated[int | None, typer.Option(
    "--bina-rep", metavar="T", show_default=False, rich_help_panel=PANEL,
    help="Mode: tonic's ToBinaRep, T frames of --n-bits binary frames each (floats).")]
ExpDecay = Annotated[str | None, typer.Option(
    "--exp-decay", metavar="DURATION", show_default=False, rich_help_panel=PANEL,
    help="Mode: windows of DURATION, each event weighted exp(-(window end - t) / tau) (with --tau; floats).")]
Tau = Annotated[str | None, typer.Option(
    "--tau", metavar="DURATION", show_default=False, rich_help_panel=PANEL,
    help="With --time-surface or --exp-decay: the decay time constant (5ms, 500us).")]
NBits = Annotated[int, typer.Option(
    "--n-bits", metavar="N", rich_help_panel=PANEL, help="With --bina-rep: binary frames per frame.")]
FramesDtype = Annotated[str | None, typer.Option(
    "--frames-dtype", metavar="auto|float16|float32", show_default=False, rich_help_panel=PANEL,
    help="With a float mode or --integrate: store float frames as float16, float32, or 'auto' (float16 "
    "when every value keeps float16's precision); unset, a plugin's whole numbers stay counts.")]

DurationRule = Annotated[str, typer.Option(
    "--duration-rule", metavar="aligned|next-event", rich_help_panel=PANEL,
    help="With --duration: windows aligned on the first event ('aligned'), or SpikingJelly 0.0.0.0.14's windows "
    "that each open at the next event not yet taken ('next-event').")]
Filter = Annotated[list[str] | None, typer.Option(
    "--filter", metavar="NAME:ARG=VALUE,...", show_default=False, rich_help_panel=PANEL,
    help="With any mode: an event filter run before integration, repeatable and applied in order, e.g. "
    "denoise:filter_time=10ms or refractory_period:period=1ms (also crop_time, drop_time_window, drop_pixel, "
    "time_skew); the frames store's name and fingerprint include the filters.")]

NAMES = ("frames", "split_by", "duration", "events_per_frame", "drop_incomplete", "integrate", "n_time_bins",
         "event_count", "time_window", "overlap", "include_incomplete", "voxel_grid", "time_surface",
         "event_image", "bina_rep", "exp_decay", "tau", "n_bits", "frames_dtype", "duration_rule", "filters")
"""The command's parameter names of the options above."""


def given(parameters: dict[str, Any]) -> dict[str, Any]:
    """The integration options among a command's ``locals()`` (those the command declares)."""
    return {k: parameters[k] for k in NAMES if k in parameters}


def spec_from_options(options: dict[str, Any], *, required: bool = True) -> Any:
    """The :class:`~eventpipe.frames.IntegrationSpec` of the command line's integration options.

    ``options`` uses the CLI parameter names; ``integrate`` is the spec's ``fn``, ``duration`` its
    ``duration_us``, and each ``--filter`` text an item of its ``filters``.
    """
    from eventpipe.frames import integration_spec
    from eventpipe.frames.filter_chain import filter_option

    values = dict(options)
    values["fn"] = values.pop("integrate", None)
    values["duration_us"] = values.pop("duration", None)
    values["event_image"] = values.get("event_image") or None
    values["filters"] = [filter_option(text) for text in values.get("filters") or ()]
    overlap = values.get("overlap")
    if isinstance(overlap, float) and overlap.is_integer():
        values["overlap"] = int(overlap)  # event_count takes whole events
    return integration_spec(values, required=required)
