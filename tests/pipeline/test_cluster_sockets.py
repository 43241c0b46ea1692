"""A local cluster listens on 127.0.0.1 only, and has a dashboard only when asked: read from the
kernel's socket tables (``/proc/net/tcp*``) for this process and the worker processes it started."""

from __future__ import annotations

import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eventpipe.pipeline.dask import local_cluster

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

LISTEN = "0A"


def _descendants(pid: int) -> set[int]:
    """``pid`` and every process started under it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def _socket_inodes(pids: set[int]) -> set[int]:
    inodes = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:  # the process ended meanwhile
            continue
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:  # closed meanwhile (the listing's own descriptor, for one)
                continue
            if link.startswith("socket:["):
                inodes.add(int(link[8:-1]))
    return inodes


def _address(hex_address: str) -> tuple[str, int]:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:  # four little-endian 32-bit words
        ip = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
    return ip, int(port, 16)


def listening(pids: set[int]) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket the processes ``pids`` listen on."""
    inodes = _socket_inodes(pids)
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            next(fh)
            for line in fh:
                cols = line.split()
                if cols[3] == LISTEN and int(cols[9]) in inodes:
                    found.add(_address(cols[1]))
    return found


def _status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as page:
            return int(page.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _cluster_ports(dashboard: Callable[[str], None] | None) -> tuple[set[tuple[str, int]], set[int], dict[str, Any]]:
    """What a one-worker cluster listens on, its HTTP ports (those that are no Dask comm), its scheduler's info."""
    from distributed import Client

    before = listening(_descendants(os.getpid()))
    with local_cluster(1, dashboard=dashboard) as address, Client(address) as client:
        sockets = listening(_descendants(os.getpid())) - before
        info = client.scheduler_info()
        comms = {address, *info["workers"], *(w["nanny"] for w in info["workers"].values())}
        http = {port for _, port in sockets} - {int(a.rsplit(":", 1)[1]) for a in comms}
        pages = {port: (_status(port, "/status"), _status(port, "/health")) for port in http}
    return sockets, http, {"services": info["services"], "pages": pages}


def test_local_cluster_listens_on_loopback_and_starts_no_dashboard_unless_asked() -> None:
    sockets, http, seen = _cluster_ports(None)
    assert {ip for ip, _ in sockets} == {"127.0.0.1"}
    # no dashboard: the HTTP servers Dask always starts (scheduler, worker) serve nothing
    assert len(http) == 2 and set(seen["pages"].values()) == {(404, 404)}

    urls: list[str] = []
    sockets, http, seen = _cluster_ports(urls.append)
    assert {ip for ip, _ in sockets} == {"127.0.0.1"}
    assert len(urls) == 1 and urls[0].startswith("http://127.0.0.1:")
    port = int(urls[0].split(":")[2].split("/")[0])
    assert seen["services"] == {"dashboard": port} and seen["pages"][port] == (200, 200)


def test_the_pipelines_default_cluster_listens_on_loopback_without_a_dashboard() -> None:
    """The cluster ``convert`` and ``prepare`` start by default (:func:`dask_client` with no scheduler)."""
    from eventpipe.pipeline.dask import dask_client

    before = listening(_descendants(os.getpid()))
    with dask_client(2, n_tasks=4) as client:
        assert client is not None
        sockets = listening(_descendants(os.getpid())) - before
        info = client.scheduler_info()
        assert len(info["workers"]) == 2
        comms = {client.scheduler.address, *info["workers"], *(w["nanny"] for w in info["workers"].values())}
        http = {port for _, port in sockets} - {int(a.rsplit(":", 1)[1]) for a in comms}
        pages = {_status(port, path) for port in http for path in ("/status", "/workers", "/health")}
    assert sockets and {ip for ip, _ in sockets} == {"127.0.0.1"}
    assert len(http) == 3 and pages == {404}  # the scheduler's and two workers' HTTP servers serve nothing
