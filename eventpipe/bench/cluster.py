"""The local Dask cluster of ``convert`` and ``prepare``, with every worker warmed up before the timing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["warm_cluster"]


@contextmanager
def warm_cluster(n_workers: int, warm_up: Callable[[], Any]) -> Iterator[str]:
    """:func:`eventpipe.pipeline.dask.local_cluster` as the pipeline starts it (freed memory kept),
    with ``warm_up`` run once in every worker first; yields the scheduler address.

    Numba compiles a kernel on its first call in each process, so ``warm_up`` calls the kernels the
    benchmark times: a timed run then measures the work, not the compiler.
    """
    from distributed import Client

    from eventpipe.pipeline.dask import local_cluster

    with local_cluster(n_workers, keep_freed_memory=True) as address:
        with Client(address) as client:
            client.run(warm_up)
        yield address
