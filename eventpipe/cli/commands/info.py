"""``eventpipe info NAME|PATH``: a dataset's events store (a static dataset's images store), a store folder
or URL, or one raw recording."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from eventpipe.cli.app import app
from eventpipe.cli.common import JsonOption, RootOption, resolve_root


def _fmt_spread(s: dict[str, Any], scale: float = 1.0, unit: str = "") -> str:
    if s["min"] is None:
        return "-"
    return f"{s['min'] / scale:.4g} / {s['median'] / scale:.4g} / {s['max'] / scale:.4g}{unit}"


def _print_store(summary: dict[str, Any]) -> None:
    from eventpipe.cli.tables import format_table
    from eventpipe.sources.catalogue import human_bytes

    typer.echo(f"{summary['dataset']}: events store {summary['store']}")
    typer.echo(f"  sensor {'x'.join(map(str, summary['sensor']))}, {len(summary['classes'])} classes, "
               f"{summary['events'] / 1e6:.2f} M events, {human_bytes(summary['bytes_on_disk'])} on disk "
               f"({summary['bytes_per_event']} B/event)")
    rows = [{
        "split": name,
        "samples": s["samples"],
        "events": s["events"],
        "events/sample min/median/max": _fmt_spread(s["events_per_sample"]),
        "duration s min/median/max": _fmt_spread(s["duration_us"], 1e6),
    } for name, s in summary["splits"].items()]
    typer.echo(format_table(rows))
    hist = [{"class": c, **{name: s["class_histogram"][c] for name, s in summary["splits"].items()}}
            for c in summary["classes"]]
    typer.echo("")
    typer.echo(format_table(hist))
    for s in summary["skipped"]:
        where = f" at byte {s['offset']}" if s.get("offset") is not None else ""
        typer.echo(f"skipped ({s['split']}): {s['path']}{where}: {s['reason']}")
    typer.echo(f"fingerprint: {summary['fingerprint']}")


def _print_images(summary: dict[str, Any]) -> None:
    from eventpipe.cli.tables import format_table
    from eventpipe.sources.catalogue import human_bytes

    typer.echo(f"{summary['dataset']}: images store {summary['store']}")
    splits = ", ".join(f"{name} {s['samples']}" for name, s in summary["splits"].items())
    typer.echo(f"  {summary['images']} images ({splits}) of {'x'.join(map(str, summary['shape']))} (C x H x W, "
               f"uint8), {len(summary['classes'])} classes, {human_bytes(summary['bytes_on_disk'])} on disk")
    hist = [{"class": c, **{name: s["class_histogram"][c] for name, s in summary["splits"].items()}}
            for c in summary["classes"]]
    typer.echo("")
    typer.echo(format_table(hist))
    typer.echo(f"fingerprint: {summary['fingerprint']}")


def _count_label(name: str) -> str:
    first, _, rest = name.partition("_")
    return f"{first.upper() if first in ('dvs', 'aps', 'imu') else first} {rest}".strip()


def _print_recording(summary: dict[str, Any]) -> None:
    typer.echo(f"{summary['path']} ({summary['format']}, {summary['bytes']} bytes)")
    if summary["camera"] is not None or summary["sensor"] is not None:
        sensor = "x".join(map(str, summary["sensor"])) if summary["sensor"] else "not given"
        typer.echo(f"  camera: {summary['camera'] or 'not named'}, sensor {sensor}")
    typer.echo("  records: " + ", ".join(f"{n} {_count_label(k)}" for k, n in summary["counts"].items()))
    if not summary["events"]:
        typer.echo("  0 events")
        return
    typer.echo(f"  {summary['events']} events over {summary['duration_us'] / 1e6:.6g} s "
               f"(t {summary['t_range_us'][0]} .. {summary['t_range_us'][1]} µs)")
    mean, peak, window = summary["rate_ev_per_s"], summary["peak_rate_ev_per_s"], summary["peak_window_us"]
    if mean is None:  # every event at one timestamp: no rate
        typer.echo("  rate: - (all events at one timestamp)")
    else:
        over = "the whole recording" if window == summary["duration_us"] else f"{window / 1e3:g} ms windows"
        typer.echo(f"  rate: mean {mean / 1e6:.4g} M events/s, peak {peak / 1e6:.4g} M events/s ({over})")
    typer.echo(f"  x {summary['x_range'][0]}..{summary['x_range'][1]}, y {summary['y_range'][0]}.."
               f"{summary['y_range'][1]} (sensor at least {summary['x_range'][1] + 1}x{summary['y_range'][1] + 1}), "
               f"polarities {summary['polarities']}, ON fraction {summary['on_fraction']}")


def _recording_summary(path: Path, fmt: str | None, chip: str | None) -> dict[str, Any]:
    from eventpipe.readers.describe import describe_recording
    from eventpipe.store.stats import events_summary

    rec = describe_recording(path, fmt, chip=chip)
    return {"path": str(path), "format": rec.format, "bytes": path.stat().st_size, "camera": rec.camera,
            "sensor": list(rec.sensor) if rec.sensor else None, "counts": rec.counts,
            **events_summary(rec.events)}


def _store_info(location: str) -> tuple[str, dict[str, Any]]:
    """``(kind, summary)`` for an events or images store, ``(kind, root attributes)`` for another kind."""
    from eventpipe.errors import StoreSchemaError
    from eventpipe.store.events.layout import KIND
    from eventpipe.store.images.layout import KIND as IMAGES_KIND
    from eventpipe.store.markers import KIND_ATTR, read_attrs
    from eventpipe.store.stats import images_summary, store_summary

    attrs = read_attrs(location)
    if attrs is None:
        raise StoreSchemaError(f"{location}: not a readable store.")
    if attrs.get(KIND_ATTR) == KIND:
        return KIND, store_summary(location)
    if attrs.get(KIND_ATTR) == IMAGES_KIND:
        return IMAGES_KIND, images_summary(location)
    return str(attrs.get(KIND_ATTR, "unknown")), attrs


def _reader_names() -> str:
    """The registered reader names (plugins included), for the help of ``--format``."""
    from eventpipe.readers import READERS

    return ", ".join(sorted(READERS.names()))


def _chip_names() -> str:
    """The jAER chip names, for the help of ``--chip``."""
    from eventpipe.readers.jaer import CHIPS

    return ", ".join(CHIPS)


@app.command("info")
def info_command(
    target: Annotated[str, typer.Argument(
        help="A dataset name (its events store), a store folder or URL, or a raw recording file.")],
    root: RootOption = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", metavar="FORMAT", show_default=False,
        help=f"Reader for a raw file whose suffix says nothing (e.g. atis for .bs2), one of: {_reader_names()}.")] = None,
    chip: Annotated[str | None, typer.Option(
        "--chip", metavar="CHIP", show_default=False,
        help=f"Camera of an AEDAT 2.0 (jAER) file without a header, or overriding its AEChip line, one of: "
             f"{_chip_names()}.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Describe a dataset's events store (samples per split, events per sample, durations, class
    histogram, size on disk), a static dataset's images store (images per split, shape, class
    histogram, size on disk) or a raw recording (camera, records per type, events, duration, rates, sensor
    extent)."""
    from eventpipe.errors import DataNotFoundError
    from eventpipe.sources import get_dataset
    from eventpipe.store.location import exists

    path = Path(target).expanduser()
    if path.is_file():
        summary = _recording_summary(path, fmt, chip)
        if json_out:
            typer.echo(json.dumps(summary))
        else:
            _print_recording(summary)
        return
    if "://" in target or (path.is_dir() and exists(path)):
        kind, summary = _store_info(target if "://" in target else str(path))
    elif "/" in target or path.suffix:
        raise DataNotFoundError(f"{target}: no such file or store.")
    else:
        from eventpipe.sources.static import StaticImagesSpec

        spec = get_dataset(target)  # an unknown name raises, listing the valid ones
        if isinstance(spec, StaticImagesSpec):
            location = spec.images_store_path(resolve_root(root))
            if not exists(location):
                raise DataNotFoundError(
                    f"{spec.name}: no images store at {location}; run `eventpipe prepare {spec.name}` first.")
        else:
            location = spec.events_store_path(resolve_root(root))
            if not exists(location):
                raise DataNotFoundError(
                    f"{spec.name}: no events store at {location}; run `eventpipe convert {spec.name}` first."
                )
        kind, summary = _store_info(str(location))
    if json_out:
        typer.echo(json.dumps(summary))
    elif kind == "events":
        _print_store(summary)
    elif kind == "images":
        _print_images(summary)
    else:
        typer.echo(f"{target}: {kind} store")
        for key, value in summary.items():
            typer.echo(f"  {key}: {value}")
