"""Local clusters: costliest tasks first, the allocator settings of ``keep_freed_memory``, and the
switches that start a cluster with Dask's own settings."""

from __future__ import annotations

import os
import time

import pytest

from eventpipe.memory import KEEP_FREED_BYTES, KEEP_FREED_MEMORY
from eventpipe.pipeline.dask import DASK_TUNING, cluster_settings, dask_client, local_cluster, run_tasks

_MALLOC = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX")


def _malloc_env() -> dict[str, str | None]:
    return {k: os.environ.get(k) for k in _MALLOC}


_SPAWN = "distributed.nanny.pre-spawn-environ."


def test_cluster_settings_and_their_off_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DASK_TUNING, raising=False)
    monkeypatch.delenv(KEEP_FREED_MEMORY, raising=False)
    tuned = cluster_settings()
    assert tuned[f"{_SPAWN}MALLOC_TRIM_THRESHOLD_"] is None and tuned["distributed.worker.profile.enabled"] is False
    kept = cluster_settings(keep_freed_memory=True)
    assert {k: v for k, v in kept.items() if k.startswith(_SPAWN)} == {
        f"{_SPAWN}MALLOC_MMAP_MAX_": "0", f"{_SPAWN}MALLOC_TRIM_THRESHOLD_": str(KEEP_FREED_BYTES),
        f"{_SPAWN}MALLOC_ARENA_MAX": "1"}
    monkeypatch.setenv(DASK_TUNING, "0")  # Dask's own settings, the kept memory still asked for
    assert cluster_settings() == {}
    assert set(cluster_settings(keep_freed_memory=True)) == {f"{_SPAWN}{k}" for k in _MALLOC}
    monkeypatch.setenv(KEEP_FREED_MEMORY, "0")
    assert cluster_settings(keep_freed_memory=True) == {}


@pytest.mark.slow
def test_costliest_first_and_kept_memory() -> None:
    from distributed import Client

    costs = [1, 5, 2, 9, 3, 7, 4, 7]
    environ = dict(os.environ)
    with local_cluster(1, keep_freed_memory=True) as address, Client(address) as client:
        assert list(client.run(_malloc_env).values()) == [
            {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(KEEP_FREED_BYTES), "MALLOC_ARENA_MAX": "1"}
        ]
        # one single-threaded worker runs the tasks one by one; each notes when it started (results
        # may arrive in another order when several finish between two messages)
        with dask_client(scheduler=client) as given:  # a connected client is used and left open
            stamped = run_tasks(lambda i: (time.perf_counter_ns(), i), [(i,) for i in range(len(costs))], given,
                                progress=False, cost=lambda a: costs[a[0]])
            # results left on the workers: the finished futures come back, and a task's error is raised
            held = run_tasks(int, [(1,), (2,)], given, progress=False, collect=False)
            assert sorted(f.result() for f in held) == [1, 2]
            with pytest.raises(ValueError, match="invalid literal"):
                run_tasks(int, [("x",)], given, progress=False, collect=False)
        assert given is client and client.status == "running"
        assert run_tasks(int, [], client, progress=False) == []
    assert [i for _, i in sorted(stamped)] == [3, 5, 7, 1, 6, 4, 2, 0]  # by decreasing cost, ties in the given order
    assert dict(os.environ) == environ  # the workers' settings stay out of this process's environment
    assert run_tasks(int, [(2,), (1,)], None, cost=lambda a: a[0], progress=False) == [2, 1]  # in-process: as given
    assert run_tasks(int, [(2,), (1,)], None, progress=False, collect=False) == []


def _distributed_handler_levels() -> list[int]:
    import logging

    return [h.level for h in logging.getLogger("distributed").handlers]


@pytest.mark.slow
def test_a_cluster_we_start_prints_no_dask_errors_and_sets_this_process_back() -> None:
    """A failed task is raised here, not also logged by the worker; this process's logging is as it was."""
    import logging

    from distributed import Client

    before = _distributed_handler_levels()
    with local_cluster(2) as address, Client(address) as client:
        assert all(levels and set(levels) == {logging.CRITICAL}
                   for levels in client.run(_distributed_handler_levels).values())
        with pytest.raises(ValueError, match="invalid literal"):
            run_tasks(int, [("x",)], client, progress=False)
    assert _distributed_handler_levels() == before
