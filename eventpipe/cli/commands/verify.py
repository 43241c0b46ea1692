"""``eventpipe verify NAME``: re-hash raw files against the manifest (a user dataset's recordings against
its definition and events store) and check every store's integrity."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from eventpipe.cli.app import app
from eventpipe.cli.common import JsonOption, ManifestOption, RootOption, resolve_root, show_progress


@app.command("verify")
def verify_command(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. demo or dvs128 (see `eventpipe datasets`).")],
    root: RootOption = None,
    manifest: ManifestOption = None,
    json_out: JsonOption = False,
    quick: Annotated[bool, typer.Option(
        "--quick", help="Check the stores' metadata and index only, not every chunk's presence and checksum.")] = False,
) -> None:
    """Re-hash every raw file (and unpacked member with a published checksum) and check every store.

    A user dataset (made by `eventpipe convert --from DIR --name NAME`) has its recordings checked
    against the sizes in its definition and the SHA-256 its events store recorded.

    Stores: ROOT/NAME/events.zarr, ROOT/NAME/frames/*.zarr and a static dataset's ROOT/NAME/images.zarr
    (offsets, lengths, markers, fingerprints, and every chunk's presence and checksum unless --quick).

    Exits non-zero when anything is missing, corrupt or inconsistent.
    """
    from eventpipe.cli.tables import format_table
    from eventpipe.fetch import verify_raw, verify_stores
    from eventpipe.fetch.verify import verify_recordings
    from eventpipe.sources import get_dataset
    from eventpipe.sources.user import UserDatasetSpec

    data_root = resolve_root(root)
    user = get_dataset(name, data_root) if manifest is None else None
    if isinstance(user, UserDatasetSpec):
        report = verify_recordings(user.name, data_root, user.recordings_dir, user.files, quick=quick,
                                   progress=show_progress())
    else:
        report = verify_raw(name, data_root, manifest=manifest, progress=show_progress())
        report += verify_stores(name, data_root, manifest=manifest, quick=quick)
    if json_out:
        typer.echo(json.dumps(report.to_dict()))
    else:
        counted = {"member": "unpacked files with published checksums", "recording": "recordings"}
        shown = [c for c in report.checks if c.kind not in counted or c.status != "ok"]
        rows = [{"target": c.target, "kind": c.kind, "status": c.status, "detail": c.detail} for c in shown]
        if rows:
            typer.echo(format_table(rows))
        for kind, what in counted.items():
            checks = [c for c in report.checks if c.kind == kind]
            if checks:
                typer.echo(f"{what}: {sum(c.status == 'ok' for c in checks)} of {len(checks)} ok")
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        typer.echo(f"{report.name}: {len(report.checks)} checks, {verdict} ({report.folder})")
    report.raise_for_problems()
