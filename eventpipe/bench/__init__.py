"""Benchmarks: library functions that return plain dicts, and the ``bench`` Typer sub-app (:mod:`eventpipe.bench.app`).

A leaf package: nothing in eventpipe imports it but the CLI, which mounts the sub-app as
``eventpipe bench``, and it imports nothing from the CLI. Every rate is measured next to a baseline
timed in the same run; ``--markdown docs/benchmarks.md`` keeps the figures in one generated document.
"""
