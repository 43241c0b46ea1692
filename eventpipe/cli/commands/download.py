"""``eventpipe download NAME``: fetch, verify and unpack a dataset's raw files (or say how to get them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from eventpipe.cli.app import app
from eventpipe.cli.common import JsonOption, ManifestOption, RootOption, resolve_root, show_progress


@app.command("download")
def download_command(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. demo, dvs128 or nmnist (see `eventpipe datasets`).")],
    root: RootOption = None,
    source: Annotated[Path | None, typer.Option(
        "--source", metavar="DIR", help="Folder holding files you downloaded by hand; they are verified, then copied.",
        show_default=False)] = None,
    link: Annotated[bool, typer.Option("--link", help="Hard-link the --source files instead of copying them.")] = False,
    manifest: ManifestOption = None,
    mirror: Annotated[list[str] | None, typer.Option(
        "--mirror", metavar="URL", help="Base URL of a mirror that serves the files by name (URL/FILE), tried first; "
        "repeatable.",
        show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Files downloaded at the same time (default 4).", show_default=False)] = None,
    deadline: Annotated[float | None, typer.Option(
        "--deadline", metavar="SECONDS", min=1, help="Give up on a file not complete after this long (default one "
        "day); a later run resumes it.", show_default=False)] = None,
    stall_timeout: Annotated[float | None, typer.Option(
        "--stall-timeout", metavar="SECONDS", min=1, help="Give up on a URL that kept us waiting this long without "
        "a new byte, summed over its reconnects (default 300).", show_default=False)] = None,
    max_unpack_ratio: Annotated[float | None, typer.Option(
        "--max-unpack-ratio", metavar="RATIO", min=1, envvar="EVENTPIPE_MAX_UNPACK_RATIO", help="Refuse an archive "
        "whose members without a size in the manifest expand more than RATIO times its size (default 200).",
        show_default=False)] = None,
    max_unpack_size: Annotated[int | None, typer.Option(
        "--max-unpack-size", metavar="BYTES", min=1, envvar="EVENTPIPE_MAX_UNPACK_SIZE", help="Refuse an archive "
        "that would unpack to more than BYTES in all (default 1 TiB).", show_default=False)] = None,
    json_out: JsonOption = False,
) -> None:
    """Download, verify (md5/sha256) and unpack the raw files of a dataset into ROOT/NAME/raw.

    Safe to run again: verified files are kept and interrupted downloads resume.

    Hosts that need a web browser: prints the files, URLs, sizes, checksums and target folder, exits non-zero.
    """
    from eventpipe.cli.tables import format_table
    from eventpipe.errors import ManualDownloadRequired
    from eventpipe.fetch import FetchOptions, UnpackLimits, download_dataset
    from eventpipe.fetch.manual import human_size

    base = FetchOptions()  # options not given keep their defaults (every given one is >= 1)
    options = FetchOptions(
        max_workers=workers or base.max_workers, deadline_s=deadline or base.deadline_s,
        stall_s=stall_timeout or base.stall_s,
        unpack=UnpackLimits(max_ratio=max_unpack_ratio or base.unpack.max_ratio,
                            max_bytes=max_unpack_size or base.unpack.max_bytes))
    try:
        result = download_dataset(name, resolve_root(root), source=source, link=link, mirrors=mirror or (),
                                  progress=show_progress(), manifest=manifest, options=options)
    except ManualDownloadRequired as exc:
        if json_out:
            typer.echo(json.dumps({"dataset": name, "status": "manual_download_required", "files": exc.files}))
        raise
    for warning in result.warnings:
        typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)
    if json_out:
        typer.echo(json.dumps(result.to_dict()))
        return
    rows = []
    for f in result.files:
        size = f.path.stat().st_size if f.path.is_file() else None
        rows.append({"file": f.name, "status": f.status, "size": "" if size is None else human_size(size),
                     "from": f.url or f.source or ""})
    if len(rows) <= 40:
        typer.echo(format_table(rows))
    else:
        counts: dict[str, int] = {}
        for r in rows:
            counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
        typer.echo(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + f" ({len(rows)} files)")
    if result.unpacked:
        typer.echo(f"unpacked: {', '.join(result.unpacked)}")
    typer.echo(f"{result.name}: raw files in {result.raw_dir}")
