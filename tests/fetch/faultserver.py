"""A real threaded HTTP(S) server on 127.0.0.1 with Range support and scripted faults, for the fetch tests.

Each served path is a :class:`Resource` whose bytes come from a ``read(offset, length)`` function, so
large bodies are generated on the fly. A resource holds a queue of faults; each request takes the next
one (then the resource behaves), which scripts sequences like "500, then success".
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

CHUNK = 1 << 16


@dataclass(frozen=True)
class Status:
    """Answer with this status and an empty body."""

    code: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Drop:
    """Send the headers (full length), then ``after`` bytes of the body, then cut the connection."""

    after: int


@dataclass(frozen=True)
class Stall:
    """Send the headers and ``after`` bytes, then go silent (until the test ends or ``seconds`` pass)."""

    after: int
    seconds: float = 30.0


@dataclass(frozen=True)
class WrongLength:
    """Announce ``Content-Length: claimed`` but send the real body, then close."""

    claimed: int


@dataclass(frozen=True)
class Corrupt:
    """Send the body with one byte flipped."""


@dataclass(frozen=True)
class IgnoreRange:
    """Answer 200 with the whole body even when a Range was asked for."""


@dataclass(frozen=True)
class Redirect:
    """Redirect (302) to ``location``."""

    location: str


Fault = Status | Drop | Stall | WrongLength | Corrupt | IgnoreRange | Redirect


@dataclass
class Resource:
    size: int
    read: Callable[[int, int], bytes]
    faults: list[Fault] = field(default_factory=list)
    chunk_delay_s: float = 0.0  # pause between chunks (to make downloads overlap)

    def next_fault(self) -> Fault | None:
        return self.faults.pop(0) if self.faults else None


@dataclass(frozen=True)
class Request:
    path: str
    range: str | None
    proxied: bool  # request line held an absolute URL (the client went through us as a proxy)
    host: str


def bytes_reader(data: bytes) -> Callable[[int, int], bytes]:
    return lambda offset, length: data[offset:offset + length]


class FaultServer:
    """``ThreadingHTTPServer`` on an ephemeral 127.0.0.1 port; ``url(path)`` gives a resource's address."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.resources: dict[str, Resource] = {}
        self.requests: list[Request] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.scheme = "http"
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def add(self, path: str, data: bytes | None = None, *, size: int | None = None,
            read: Callable[[int, int], bytes] | None = None, faults: list[Fault] | None = None,
            chunk_delay_s: float = 0.0) -> Resource:
        if data is not None:
            size, read = len(data), bytes_reader(data)
        assert size is not None and read is not None
        res = Resource(size, read, list(faults or []), chunk_delay_s)
        self.resources[path] = res
        return res

    def requests_for(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        server: FaultServer = self.server.owner  # type: ignore[attr-defined]
        target = urlsplit(self.path)
        path = target.path
        server.requests.append(Request(path, self.headers.get("Range"), bool(target.scheme),
                                       self.headers.get("Host", "")))
        server._enter()
        try:
            self._answer(server, path)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        finally:
            server._leave()

    def _answer(self, server: FaultServer, path: str) -> None:
        res = server.resources.get(path)
        if res is None:
            self._empty(404)
            return
        fault = res.next_fault()
        if isinstance(fault, Status):
            self._empty(fault.code, fault.headers)
            return
        if isinstance(fault, Redirect):
            self._empty(302, {"Location": fault.location})
            return
        start, end = 0, res.size - 1
        status = 200
        asked = self.headers.get("Range")
        if asked and not isinstance(fault, IgnoreRange):
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", asked.strip())
            if m:
                start = int(m.group(1))
                end = min(int(m.group(2)) if m.group(2) else res.size - 1, res.size - 1)
                if start >= res.size:
                    self._empty(416, {"Content-Range": f"bytes */{res.size}"})
                    return
                status = 206
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{res.size}")
        claimed = fault.claimed if isinstance(fault, WrongLength) else length
        self.send_header("Content-Length", str(claimed))
        if isinstance(fault, WrongLength):
            self.send_header("Connection", "close")
        self.end_headers()
        limit = length
        if isinstance(fault, Drop | Stall):
            limit = min(length, fault.after)
        sent = 0
        while sent < limit:
            n = min(CHUNK, limit - sent)
            chunk = res.read(start + sent, n)
            if isinstance(fault, Corrupt) and sent == 0:
                chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            self.wfile.write(chunk)
            sent += n
            if res.chunk_delay_s:
                time.sleep(res.chunk_delay_s)
        self.wfile.flush()
        if isinstance(fault, Stall):
            server.release.wait(fault.seconds)
        if isinstance(fault, Drop | Stall | WrongLength):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def _empty(self, code: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()
