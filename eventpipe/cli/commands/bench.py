"""``eventpipe bench TOPIC``: the project's benchmarks, as ratios against baselines measured in the same run."""

from __future__ import annotations

import importlib
import pkgutil

import typer

from eventpipe.cli.main import app

bench_app = typer.Typer(help="Benchmarks: throughput next to a baseline measured in the same run (JSON + table).",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")


def _register_benches() -> None:
    """Import every module of ``eventpipe.cli.benches``; each adds one command to ``bench_app``."""
    from eventpipe.cli import benches

    for mod in sorted(m.name for m in pkgutil.iter_modules(benches.__path__)):
        importlib.import_module(f"{benches.__name__}.{mod}")


_register_benches()
