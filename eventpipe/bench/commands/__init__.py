"""One module per benchmark topic: its Typer command and the Markdown it reports; :mod:`eventpipe.bench.app` joins them.

Heavy imports (torch, dask, the benchmark itself) stay inside the command functions so that
``eventpipe --help`` does not pay for them.
"""
