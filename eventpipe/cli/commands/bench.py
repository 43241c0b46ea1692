"""``eventpipe bench TOPIC``: mounts the benchmark sub-app of :mod:`eventpipe.bench.app`."""

from __future__ import annotations

from eventpipe.bench.app import app as bench_app
from eventpipe.cli.app import app

app.add_typer(bench_app, name="bench")
