"""``eventpipe convert NAME``: raw files -> events store, in parallel, resumable and idempotent
(a static image dataset's raw files -> its images store).

``eventpipe convert --from DIR --name NAME`` first defines a user dataset from a folder of recordings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from eventpipe.cli.app import app
from eventpipe.cli.common import (
    JsonOption,
    RootOption,
    SchedulerOption,
    WorkersOption,
    resolve_root,
    show_progress,
)


def show_dashboard(url: str) -> None:
    """Print a local cluster's dashboard URL (on stderr: stdout may be JSON)."""
    typer.echo(f"dashboard: {url}", err=True)


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` -> ``(key, value)``; the value is read as JSON when it parses (numbers), else a string."""
    from eventpipe.errors import ConfigError

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"Expected --option as KEY=VALUE. Got {text!r} instead.")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value


def _convert_images(name: str, root: Path, json_out: bool) -> None:
    """Build static dataset ``name``'s images store from the raw files present and print what was done."""
    from dataclasses import asdict

    from eventpipe.datasets.static import convert_images

    result = convert_images(name, root)
    if json_out:
        typer.echo(json.dumps(asdict(result)))
        return
    splits = ", ".join(f"{s} {n}" for s, n in result.num_samples.items())
    typer.echo(f"{result.dataset}: {result.status}; {sum(result.num_samples.values())} images ({splits})")
    if result.blocks_written:
        typer.echo(f"  {result.blocks_written} blocks written")
    typer.echo(f"  store: {result.store}")


@app.command("convert")
def convert_command(
    name: Annotated[str | None, typer.Argument(help="Dataset name (see `eventpipe datasets`).",
                                               show_default=False)] = None,
    root: RootOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    on_error: Annotated[Literal["raise", "skip"], typer.Option(
        "--on-error", help="What a corrupt raw file does: raise stops at the first one (naming the file and the "
        "byte offset), skip leaves such files out and lists them in the store.")] = "raise",
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", metavar="KEY=VALUE", help="A dataset option, repeatable (e.g. -o split_scheme=first_100 "
        "for cifar10dvs, -o test_fraction=0.2).", show_default=False)] = None,
    dashboard: Annotated[bool, typer.Option(
        "--dashboard", help="Give the local Dask cluster a dashboard (on 127.0.0.1 only) and print its URL; "
        "work small enough to run in this process starts no cluster.")] = False,
    source: Annotated[Path | None, typer.Option(
        "--from", metavar="DIR", help="Make user dataset NAME from this folder of recordings (a sub-folder per "
        "class, or --labels); the files stay where they are.", show_default=False)] = None,
    dataset_name: Annotated[str | None, typer.Option(
        "--name", metavar="NAME", help="Name of the user dataset made --from a folder (or give NAME).",
        show_default=False)] = None,
    labels: Annotated[Path | None, typer.Option(
        "--labels", metavar="FILE", help="With --from: a CSV of path,label (whole files) or "
        "path,label,start_us,end_us (time segments) rows instead of class sub-folders.", show_default=False)] = None,
    split: Annotated[Path | None, typer.Option(
        "--split", metavar="FILE", help="With --from: a CSV of path,split rows (default: the folders train/ and "
        "test/ if present, else a stratified split by --test-fraction).", show_default=False)] = None,
    test_fraction: Annotated[float, typer.Option(
        "--test-fraction", min=0.0, max=0.99, help="With --from: the share of each class in the test split.")] = 0.2,
    sensor: Annotated[str | None, typer.Option(
        "--sensor", metavar="SIZE", help="With --from: the sensor size as WIDTHxHEIGHT, e.g. 346x260 "
        "(default: the largest the files state or their events reach, which reads each file once more).",
        show_default=False)] = None,
    json_out: JsonOption = False,
) -> None:
    """Convert ROOT/NAME/raw into the events store ROOT/NAME/events.zarr.

    One task per raw file (or batch of small files) on a local Dask cluster, or on --scheduler.
    An interrupted run resumes where it stopped; a finished store is left as it is.

    With --from DIR --name NAME: define the user dataset NAME from your own recordings (any format
    `eventpipe info FILE` reads, mixed), write ROOT/NAME/dataset.toml and convert it; afterwards
    NAME works in prepare, show, info and train like a built-in dataset.

    A static image dataset (mnist, fashion-mnist, cifar10, demo-static) is converted into its images
    store ROOT/NAME/images.zarr instead.
    """
    from eventpipe.errors import ConfigError
    from eventpipe.pipeline.convert import convert, convert_folder

    options = dict(parse_option(o) for o in option or ())
    run: dict[str, Any] = {"workers": workers, "scheduler": scheduler, "on_error": on_error,
                           "progress": show_progress(json_out), "dashboard": show_dashboard if dashboard else None}
    if name and dataset_name and name != dataset_name:
        raise ConfigError(f"Give the dataset name once: NAME is {name!r} but --name is {dataset_name!r}.")
    name = name or dataset_name
    folder_only = {"--labels": labels, "--split": split, "--sensor": sensor}
    if source is None and any(v is not None for v in folder_only.values()):
        given = next(k for k, v in folder_only.items() if v is not None)
        raise ConfigError(f"{given} describes a folder of recordings; use it with --from DIR --name NAME.")
    if not name:
        raise ConfigError("Expected a dataset name: `eventpipe convert NAME`, or `--from DIR --name NAME`.")
    if source is not None:
        if options:
            raise ConfigError("--option is for built-in datasets; a user dataset made --from a folder has none.")
        from eventpipe.sources.user.folder import parse_sensor

        result = convert_folder(source, name, resolve_root(root), labels=labels, split=split,
                                test_fraction=test_fraction, sensor=parse_sensor(sensor) if sensor else None, **run)
    else:
        from eventpipe.sources import get_dataset
        from eventpipe.sources.static import StaticImagesSpec

        dataset = get_dataset(name, resolve_root(root))
        if isinstance(dataset, StaticImagesSpec):
            if options:
                raise ConfigError(f"--option is for event datasets; {dataset.name} holds static images and has none.")
            _convert_images(dataset.name, resolve_root(root), json_out)
            return
        result = convert(name, resolve_root(root), **run, **options)
    if json_out:
        typer.echo(json.dumps({**result.__dict__, "events_total": result.events_total}))
        return
    samples = ", ".join(f"{s} {n}" for s, n in result.num_samples.items())
    rate = result.events_total / result.seconds / 1e6 if result.seconds and result.parts_written else 0.0
    typer.echo(f"{result.dataset}: {result.status}; {sum(result.num_samples.values())} samples ({samples}), "
               f"{result.events_total / 1e6:.2f} M events")
    if result.parts_written:
        typer.echo(f"  {result.parts_written} of {result.parts_total} parts written in {result.seconds:.1f} s "
                   f"({rate:.1f} M events/s)")
    typer.echo(f"  store: {result.store}")
    if result.definition:
        typer.echo(f"  definition: {result.definition['path']} ({result.definition['status']})")
    for s in result.skipped:
        where = f" at byte {s['offset']}" if s.get("offset") is not None else ""
        typer.echo(f"  skipped ({s['split']}): {s['path']}{where}: {s['reason']}")
