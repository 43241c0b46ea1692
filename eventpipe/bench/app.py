"""The ``bench`` Typer sub-app: one command per topic, mounted by the CLI as ``eventpipe bench``.

This package is a leaf: nothing in eventpipe imports it but the CLI, to mount :data:`app` (and give
it the CLI's help style), and it imports nothing from the CLI.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from eventpipe.bench.commands import convert, frames, loader, neurons, online, readers, train, transforms
from eventpipe.bench.document import TOPICS

__all__ = ["app"]

app = typer.Typer(name="bench", no_args_is_help=True,
                  help="Benchmarks: throughput next to a baseline measured in the same run, printed as Markdown or JSON.")

_COMMANDS: dict[str, Callable[..., None]] = {
    "readers": readers.readers,
    "convert": convert.convert,
    "frames": frames.frames,
    "loader": loader.loader,
    "neurons": neurons.neurons,
    "online": online.online,
    "train": train.train,
    "transforms": transforms.transforms,
}
for _topic in TOPICS:
    app.command(_topic)(_COMMANDS[_topic])
