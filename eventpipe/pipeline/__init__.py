"""Orchestration: raw files -> events store -> frames store, with Dask (the only Dask importer).

- :func:`eventpipe.pipeline.convert.convert`: raw files -> events store.
- :func:`eventpipe.pipeline.prepare.prepare`: download, verify, convert and integrate as needed.
- :mod:`eventpipe.pipeline.dask`: scheduler choice and running tasks with a progress bar.

Import the functions from their modules; importing this package imports neither Dask nor Zarr.
"""
