"""One module per command. Each imports ``app`` from :mod:`eventpipe.cli.main` and decorates its function.

Keep imports of heavy libraries (torch, dask, zarr) inside the command functions so ``--help`` stays fast.
"""
