"""One module per command. Each imports ``app`` from :mod:`eventpipe.cli.app` and decorates its function;
:mod:`eventpipe.cli.main` imports them all.

Keep imports of heavy libraries (torch, dask, zarr) inside the command functions so ``--help`` stays fast.
"""
