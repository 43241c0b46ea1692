"""Dask for the pipeline: which scheduler runs the tasks, and running them with a progress bar.

The pipeline modules are the only place that imports Dask. Parallelism is at one level: one task
per raw file (or batch of small files), each task single-threaded inside; nothing nests.

Schedulers, chosen by :func:`dask_client`:

- ``scheduler=None`` (default): a local cluster of ``workers`` single-threaded worker processes,
  ``workers`` defaulting to the CPU cores this process may use. With one worker or one task the
  work runs in this process instead: starting a cluster would cost more than it saves.
- ``scheduler="synchronous"``: every task in this process, one after the other (tests, debugging,
  ``memory://`` stores that other processes cannot see).
- any other string: the address of an existing Dask scheduler (``tcp://host:8786``); its workers
  must see the same file system paths as this process.
- a connected ``distributed.Client``: its cluster runs the tasks, and the client stays open.

A local cluster listens on 127.0.0.1 only (scheduler, workers, nannies) and starts its dashboard only
when asked (``dashboard=``), on 127.0.0.1 too: nothing of it is reachable from another machine.
"""

from __future__ import annotations

import ast
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventpipe.errors import ConfigError
from eventpipe.memory import malloc_environment, setting_enabled
from eventpipe.progress import bar_disabled

if TYPE_CHECKING:
    from distributed import Client

SYNCHRONOUS = "synchronous"
LOOPBACK = "127.0.0.1"
"""The only address a local cluster listens on."""
SILENCED_BELOW = logging.CRITICAL
"""Dask's own log records below this level are not printed by a local cluster we start: a failed task
is raised to the caller, which says in one line what failed; Dask would print the same failure again,
over many lines (``distributed.worker - ERROR - Compute Failed`` with its traceback), from the worker."""


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers: int | None) -> int:
    """``workers``, or the available cores when ``None``; at least 1."""
    if workers is None:
        return available_cores()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"Expected workers as an integer >= 1. Got {workers!r} instead.")
    return workers


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | Client | None = None, n_tasks: int | None = None, *,
                keep_freed_memory: bool = False, dashboard: Callable[[str], None] | None = None,
                ) -> Iterator[Client | None]:
    """A distributed ``Client`` for the ``with`` block, or ``None`` to run in this process.

    See the module docstring for the choices. ``n_tasks`` (when known) avoids starting a cluster
    for a single task. ``keep_freed_memory`` and ``dashboard`` are passed to :func:`local_cluster`.
    """
    if scheduler == SYNCHRONOUS:
        yield None
        return
    if scheduler is not None and not isinstance(scheduler, str):  # the caller's client, left open
        yield scheduler
        return
    if scheduler is not None:
        from distributed import Client

        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise ConfigError(f"Cannot connect to the Dask scheduler at {scheduler!r}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    n_workers = resolve_workers(workers)
    if n_tasks is not None:
        n_workers = min(n_workers, n_tasks)
    if n_workers <= 1:
        yield None
        return
    reason = unsafe_to_start_workers()
    if reason is not None:
        warnings.warn(f"Running the tasks in this process, not on {n_workers} worker processes: {reason}",
                      RuntimeWarning, stacklevel=3)
        yield None
        return
    from distributed import Client

    with local_cluster(n_workers, keep_freed_memory=keep_freed_memory, dashboard=dashboard) as address, \
            Client(address) as client:
        yield client


def unsafe_to_start_workers() -> str | None:
    """Why worker processes cannot be started from this call, or None when they can.

    Dask starts workers with ``spawn`` (or ``forkserver``), which runs the main script again in each
    new process; a script that calls the pipeline at its top level, outside an
    ``if __name__ == "__main__":`` block, would then start the pipeline again in every worker, and
    multiprocessing refuses that ("Nanny failed to start"). Interactive sessions, ``python -c`` and
    scripts calling from under that block are safe.
    """
    import dask

    if dask.config.get("distributed.worker.multiprocessing-method", "spawn") == "fork":
        return None
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path:
        return None
    frame = sys._getframe(1)
    while frame is not None and not (frame.f_globals is vars(main) and frame.f_code.co_name == "<module>"):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:  # not under the main script's top-level code (a thread, atexit)
        return None
    try:
        guarded = _under_main_guard(Path(path).read_text(encoding="utf-8"), frame.f_lineno)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):  # no readable source: let multiprocessing decide
        return None
    if guarded:
        return None
    return (f"{path}, line {frame.f_lineno}, runs outside an `if __name__ == \"__main__\":` block, and every "
            "worker process would run the script again; put that code under such a block to use workers.")


def _under_main_guard(source: str, line: int) -> bool:
    """True when ``line`` of the module ``source`` is inside a top-level ``if __name__ == "__main__":``."""
    return any(
        isinstance(node, ast.If) and _is_main_test(node.test)
        and node.body[0].lineno <= line <= (node.body[-1].end_lineno or node.body[-1].lineno)
        for node in ast.parse(source).body
    )


def _is_main_test(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    values = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(values) == 1


DASK_TUNING = "EVENTPIPE_DASK_TUNING"
"""Environment variable: ``0`` starts the pipeline's local clusters with Dask's own settings."""


def cluster_settings(keep_freed_memory: bool = False) -> dict[str, Any]:
    """The Dask configuration :func:`local_cluster` starts its cluster with, for that cluster only.

    Tuning, all of it off with ``EVENTPIPE_DASK_TUNING=0``:

    - Dask starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which turns off glibc's adaptive
      ``mmap`` threshold: every large array then comes fresh from the kernel and is zeroed page by
      page on first touch, and a conversion task allocates arrays of a recording's size. Unset, the
      workers get glibc's default.
    - Each worker samples its own stack many times a second for the dashboard's profile page, CPU
      time taken from every task; off, the dashboard still shows tasks and memory.
    - The scheduler and the nannies run in this process, each with timers (an event-loop tick,
      system and memory monitors). With as many workers as cores their CPU time comes out of the
      workers, so they tick less often: the tick only feeds "event loop was unresponsive" warnings,
      the system monitor the dashboard's plots, and the memory monitor still runs twice a second.

    Memory, off with ``EVENTPIPE_KEEP_FREED_MEMORY=0`` or ``keep_freed_memory=False``: each worker
    starts with :func:`eventpipe.memory.malloc_environment`, so that it keeps up to
    :data:`eventpipe.memory.KEEP_FREED_BYTES` of freed memory for its next task.
    """
    settings: dict[str, Any] = {}
    if setting_enabled(DASK_TUNING):
        settings.update({
            "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
            "distributed.worker.profile.enabled": False,
            "distributed.admin.tick.interval": "1s",
            "distributed.admin.system-monitor.interval": "5s",
            "distributed.worker.memory.monitor-interval": "500ms",
        })
    if keep_freed_memory:
        settings.update({f"distributed.nanny.pre-spawn-environ.{name}": value
                         for name, value in malloc_environment().items()})
    return settings


@contextmanager
def local_cluster(n_workers: int, *, keep_freed_memory: bool = False,
                  dashboard: Callable[[str], None] | None = None) -> Iterator[str]:
    """A local cluster of ``n_workers`` single-threaded worker processes; yields its scheduler address.

    Every process of it listens on 127.0.0.1 only, and prints none of Dask's log records below
    :data:`SILENCED_BELOW`: in the workers, and in this process only while the cluster is open (Dask's
    own handlers, set back when it closes; the caller's handlers and a cluster of the caller's own are
    untouched). Without ``dashboard`` it has no dashboard; with
    it, the dashboard listens on a free port of 127.0.0.1 and ``dashboard`` is called with its URL.

    The cluster starts with :func:`cluster_settings`. ``keep_freed_memory`` makes each worker's C
    allocator (glibc) serve large arrays from its heap and keep up to
    :data:`~eventpipe.memory.KEEP_FREED_BYTES` of freed memory for the next task instead of returning
    every large array to the operating system: a task that allocates a few hundred MB per raw file
    then reuses the previous task's pages instead of having fresh ones faulted in and zeroed, and a
    worker holds on to its largest task's memory between tasks. Only the workers change: this
    process's environment is the same afterwards.
    """
    import dask
    from distributed import LocalCluster

    # Dask's nannies put the worker environment (these settings, PYTHONHASHSEED) into this process's
    # os.environ to spawn workers; it is put back afterwards, so that processes started later by the
    # caller (DataLoader or DDP workers, say) do not inherit it.
    environ = dict(os.environ)
    # Dask's scheduler and workers always start an HTTP server (health, metrics, info pages), even
    # without a dashboard: without one it serves no page at all.
    private: dict[str, Any] = {} if dashboard is not None else {"distributed.scheduler.http.routes": [],
                                                "distributed.worker.http.routes": []}
    try:
        with dask.config.set({**cluster_settings(keep_freed_memory), **private}), LocalCluster(
            n_workers=resolve_workers(n_workers), threads_per_worker=1, processes=True, host=LOOPBACK,
            dashboard_address=f"{LOOPBACK}:0",  # any free port: a fixed :8787 collides with other clusters
            scheduler_kwargs={"dashboard": dashboard is not None},
            silence_logs=SILENCED_BELOW,
        ) as cluster:
            if dashboard is not None:
                dashboard(cluster.dashboard_link)
            yield cluster.scheduler_address
    finally:
        _restore_environ(environ)


def _restore_environ(saved: dict[str, str]) -> None:
    """Make ``os.environ`` equal ``saved`` again, touching only the variables that differ."""
    for name in [k for k in os.environ if k not in saved]:
        del os.environ[name]
    for name, value in saved.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def run_tasks(
    fn: Callable[..., Any],
    args: Sequence[tuple[Any, ...]],
    client: Client | None,
    *,
    progress: bool = True,
    desc: str = "",
    unit: str = "task",
    weight: Callable[[tuple[Any, ...]], int] | None = None,
    cost: Callable[[tuple[Any, ...]], float] | None = None,
    on_result: Callable[[Any], bool] | None = None,
    collect: bool = True,
) -> list[Any]:
    """Run ``fn(*a)`` for every ``a`` in ``args`` as one task each; results in completion order.

    The progress bar advances by ``weight(a)`` (default 1) as each task finishes. ``cost(a)``
    (optional, any unit) estimates a task's run time: on a cluster the costliest tasks start first,
    so the tasks still running at the end are short and no worker waits long for the last one.
    Without a client the tasks run here, in the order given. ``on_result`` sees every
    result as it arrives; when it returns ``False`` the remaining tasks are cancelled and the
    results so far are returned.

    With ``collect=False`` (for tasks whose output is in a store) the results stay on the workers
    and the finished futures are returned instead (nothing without a client); ``on_result`` never
    runs. On a cluster, fetching each result costs a round trip through the scheduler, CPU time
    that busy workers pay for when the scheduler shares their cores. Releasing the futures makes the
    scheduler and the workers forget the tasks: hold on to them while this process has more to do
    (a local cluster's scheduler runs in it and would take turns with that work).
    """
    from tqdm.auto import tqdm

    weights = [weight(a) if weight else 1 for a in args]
    results: list[Any] = []
    with tqdm(total=sum(weights), desc=desc, unit=unit, disable=bar_disabled(progress), dynamic_ncols=True) as bar:
        if client is None:
            for a, w in zip(args, weights, strict=True):
                result = fn(*a)
                bar.update(w)
                if collect:
                    results.append(result)
                    if on_result is not None and on_result(result) is False:
                        break
            return results
        if not args:
            return results
        from distributed import as_completed

        order = list(range(len(args)))
        if cost is not None:
            order.sort(key=lambda i: -cost(args[i]))  # stable: ties keep their order
        # One graph for all tasks (a submit per task costs the scheduler more time); tasks of one
        # graph without dependencies start in the order given (a test holds Dask to it).
        futures = client.map(fn, *(list(column) for column in zip(*(args[i] for i in order), strict=True)), pure=False)
        index = {f.key: i for f, i in zip(futures, order, strict=True)}
        # Results (if collected) come with the futures as they finish, not one call each, waited for
        # on this client's event loop: as_completed otherwise uses the newest client's, which may be
        # another cluster's.
        stream = as_completed(futures, loop=client.loop, with_results=collect)
        try:
            for item in stream:
                future = item[0] if collect else item
                if future.status == "error":
                    future.result()  # raises the task's exception here
                bar.update(weights[index[future.key]])
                if collect:
                    results.append(item[1])
                    if on_result is not None and on_result(item[1]) is False:
                        break
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                client.cancel(pending)
        if not collect:
            return futures
    return results
