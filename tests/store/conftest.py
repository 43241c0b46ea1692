"""Store tests, mirroring ``eventpipe/store``: shared modules here, ``events/``, ``frames/`` and ``_zarr/``
below. This file puts this folder on ``sys.path`` (pytest's rootless conftest import), so the
tests in every subfolder import :mod:`store_helpers`."""
