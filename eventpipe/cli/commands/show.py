"""``eventpipe show NAME --index I --out FILE.gif|png``: draw one sample of a prepared dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from eventpipe.cli import integration
from eventpipe.cli.app import app
from eventpipe.cli.common import RootOption, resolve_root, show_progress


@app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Dataset name (see `eventpipe datasets`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Picture to write: .gif (animation) or .png (grid).")],
    index: Annotated[int, typer.Option("--index", "-i", help="Sample index within the split.")] = 0,
    split: Annotated[str, typer.Option("--split", help="Split to read, e.g. train or test.")] = "train",
    root: RootOption = None,
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
    events_view: Annotated[
        Literal["auto", "scatter", "montage"],
        typer.Option("--events-view", help="Without an integration mode: an x-y-t scatter (PNG) or a time-binned "
                     "montage; auto picks the scatter for .png and the montage for .gif.")
    ] = "auto",
    bins: Annotated[int, typer.Option("--bins", min=1, help="Time bins of the events montage.")] = 8,
    fps: Annotated[float, typer.Option("--fps", min=0.1, help="GIF frames per second.")] = 10.0,
    scale: Annotated[
        int | None, typer.Option("--scale", min=1, help="GIF pixel enlargement (default: about 320 px wide).")
    ] = None,
    prepare: Annotated[bool, typer.Option("--prepare", help="Build the store first if it is missing.")] = False,
) -> None:
    """Draw sample INDEX of NAME: frames as a GIF or PNG grid (ON and OFF in two colours, frame index and
    label in the title; float representations such as --voxel-grid or --time-surface with a colour
    scale); without a frames option, the raw events as an x-y-t scatter or time-binned montage."""
    from eventpipe.datasets import dataset_class
    from eventpipe.frames.spec import FLOAT_MODES
    from eventpipe.sources import get_dataset
    from eventpipe.viz import render_sample

    info = get_dataset(name)
    spec = integration.spec_from_options(integration.given(locals()), required=False)
    if _show_static_image(info, spec, out, index, split, root, prepare):
        return
    cls = dataset_class(info.name)
    ds = cls(resolve_root(root), split=split, spec=spec, prepare=prepare, progress=show_progress(),
             dataset=None if cls.dataset_name else info.name)
    _check_index(index, len(ds), info.name, split)
    sample, label = ds[index]
    label_name = ds.classes[label] if 0 <= label < len(ds.classes) else "?"
    mode = "events" if ds.spec is None else ds.spec.name
    title = f"{info.name} {split}[{index}] label {label} ({label_name})\n{mode}"
    path = render_sample(
        sample, out, sensor_size=ds.sensor_size, title=title, events_view=events_view, bins=bins, fps=fps, scale=scale,
        values=ds.spec is not None and ds.spec.mode in FLOAT_MODES and ds.spec.mode != "plugin",
    )
    typer.echo(f"wrote {path}")



def _show_static_image(info: object, spec: object, out: Path, index: int, split: str, root: Path | None,
                       prepare: bool) -> bool:
    """Draw image INDEX of a static image dataset (False for every other dataset)."""
    from eventpipe.errors import ConfigError
    from eventpipe.sources.static import StaticImagesSpec

    if not isinstance(info, StaticImagesSpec):
        return False
    if spec is not None:
        raise ConfigError(f"{info.name} holds static images: integration options do not apply; run "
                          f"`eventpipe show {info.name} --out image.png` without them.")
    from eventpipe.datasets.static import static_dataset_class
    from eventpipe.viz import save_image

    ds = static_dataset_class(info.name)(resolve_root(root), split=split, prepare=prepare, progress=show_progress())
    _check_index(index, len(ds), info.name, split)
    image, label = ds[index]
    label_name = ds.classes[label] if 0 <= label < len(ds.classes) else "?"
    path = save_image(image, out, title=f"{info.name} {split}[{index}] label {label} ({label_name})")
    typer.echo(f"wrote {path}")
    return True


def _check_index(index: int, size: int, name: str, split: str) -> None:
    """A one-line error for an ``--index`` outside the split (negative indices count from the end)."""
    if not -size <= index < size:
        from eventpipe.errors import ConfigError

        raise ConfigError(f"Expected --index in [0, {size - 1}] for {name} {split!r}. Got {index} instead.")
