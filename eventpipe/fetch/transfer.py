"""Resumable, verified HTTP(S) download of one file, with retries and mirrors.

How a file travels (``dest`` is its final path):

1. Bytes stream into ``dest.name + ".part"`` and through the checksums at once. A ``.part`` left by an
   earlier run is re-hashed first and the download resumes after it with an HTTP ``Range`` request.
2. Connection errors, timeouts, HTTP 5xx/408/429 and bodies that end early are retried on the same URL
   with exponential backoff and jitter; a retry that received bytes resets the budget. Other answers
   (404, 403, ...), exhausted retries, a host that cannot be resolved or refuses connections (no
   network: retrying would not help) and a URL stalled for ``stall_s`` seconds in all move on to the
   next URL: every mirror is first-class, and the ``.part`` prefix carries over to it, since mirrors
   serve the same bytes. ``deadline_s`` bounds the whole file.
3. Redirects are followed by hand so that an https URL is never redirected to plain http.
4. When the stream ends, the checksums decide: a match renames ``.part`` to ``dest`` (the only way a file
   gets there); a mismatch moves the bytes aside to ``dest.name + ".corrupt-<UTC time>"`` (the latest
   one is kept for inspection, never used; older ones are deleted) and the next URL is tried.
5. Cancelling (Ctrl-C in :func:`~eventpipe.fetch.download_dataset`) shuts the open connections down, so
   a read blocked on a silent server returns at once; the ``.part`` file stays for a resume.

``requests`` does the HTTP work; it honours the ``HTTP(S)_PROXY``/``NO_PROXY`` and ``REQUESTS_CA_BUNDLE``
environment variables.
"""

from __future__ import annotations

import contextlib
import glob
import os
import random
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from tqdm.auto import tqdm

from eventpipe._version import __version__
from eventpipe.errors import ChecksumMismatch, ConfigError, DownloadError
from eventpipe.fetch.extract import UnpackLimits
from eventpipe.fetch.hashing import Digest, first_mismatch
from eventpipe.progress import bar_disabled

#: Statuses worth retrying on the same URL (besides every 5xx).
RETRY_STATUSES = frozenset({408, 425, 429})
#: Exceptions raised by a connection that failed, stalled or closed early.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    HTTPException,
    ConnectionError,
    TimeoutError,
)


@dataclass(frozen=True)
class FetchOptions:
    """How hard and how fast to try.

    Parameters
    ----------
    connect_timeout_s, read_timeout_s
        Seconds to wait for a connection, and for the next bytes of an answer (a stalled server).
    stall_s
        Seconds a URL may keep us waiting without a new byte, summed over its reconnects, before it
        is given up (a server that sends a little, then stalls, again and again).
    deadline_s
        Seconds one file may take in all (every URL, retry and pause); ``None`` for no limit. The
        ``.part`` file stays, so a later run resumes.
    retries
        Extra attempts per URL after the first (connection errors, timeouts, 5xx, early ends).
    backoff_s, backoff_max_s
        Pause before retry ``k`` (1-based): a random time in ``[d/2, d]`` with
        ``d = min(backoff_max_s, backoff_s * 2**(k-1))``; a ``Retry-After`` header, capped at
        ``backoff_max_s``, wins when longer.
    chunk_bytes
        Read size; memory use is bounded by a few of these whatever the file size.
    max_workers
        Files of one dataset downloaded at the same time (threads).
    max_redirects
        Redirects followed per request.
    unpack
        How far a downloaded archive may expand (:class:`~eventpipe.fetch.extract.UnpackLimits`).
    """

    connect_timeout_s: float = 15.0
    read_timeout_s: float = 30.0
    stall_s: float = 300.0
    deadline_s: float | None = 86_400.0
    retries: int = 5
    backoff_s: float = 1.0
    backoff_max_s: float = 60.0
    chunk_bytes: int = 1 << 20
    max_workers: int = 4
    max_redirects: int = 10
    unpack: UnpackLimits = field(default_factory=UnpackLimits)

    def __post_init__(self) -> None:
        for name in ("connect_timeout_s", "read_timeout_s", "stall_s", "backoff_max_s", "deadline_s"):
            if name == "deadline_s" and self.deadline_s is None:
                continue
            if not getattr(self, name) > 0:
                raise ConfigError(f"Expected a positive number of seconds for {name}. Got {getattr(self, name)} instead.")
        if self.backoff_s < 0:
            raise ConfigError(f"Expected backoff_s >= 0. Got {self.backoff_s} instead.")
        for name, low in (("retries", 0), ("chunk_bytes", 1), ("max_workers", 1), ("max_redirects", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise ConfigError(f"Expected an integer >= {low} for {name}. Got {value!r} instead.")

    def backoff(self, failures: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry number ``failures`` (1-based)."""
        delay = min(self.backoff_max_s, self.backoff_s * 2 ** (failures - 1))
        wait = random.uniform(delay / 2, delay)
        if retry_after_s is not None:
            wait = max(wait, min(retry_after_s, self.backoff_max_s))
        return wait


@dataclass(frozen=True)
class Transfer:
    """What one successful :func:`fetch_file` did."""

    url: str  # the URL (before redirects) that delivered the verified bytes
    received: int  # bytes received over the network from ``url`` in this call
    resumed_from: int  # bytes already in the ``.part`` file that are part of the result (0 when all was sent again)
    attempts: int  # HTTP requests made on the URL that succeeded


class DownloadCancelled(DownloadError):
    """The download was stopped on request (its ``.part`` file stays, to resume later)."""


class DownloadTimedOut(DownloadError, TimeoutError):
    """A file was not complete within ``FetchOptions.deadline_s`` (its ``.part`` file stays)."""


class HostUnreachable(DownloadError, ConnectionError):
    """No URL of a file could be reached: names do not resolve or connections are refused (offline?)."""


class Cancel(threading.Event):
    """A cancel flag that, once set, also shuts down the connections registered with it.

    A thread blocked reading from a silent server would otherwise notice the flag only after its read
    timeout; shutting the socket down makes the read return at once.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()

    def set(self) -> None:
        super().set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    @contextlib.contextmanager
    def watching(self, response: requests.Response) -> Iterator[None]:
        """Shut ``response``'s connection down if the flag gets set while the body is read."""
        sock = getattr(getattr(response.raw, "connection", None), "sock", None)
        if not isinstance(sock, socket.socket):
            yield
            return
        with self._lock:
            self._sockets.add(sock)
        try:
            if self.is_set():
                _shut(sock)
            yield
        finally:
            with self._lock:
                self._sockets.discard(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Retry(Exception):
    """A transient failure: try the same URL again after a pause."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class _NextURL(Exception):
    """This URL cannot deliver the file: go on to the next one."""


class _Unreachable(_NextURL):
    """The URL's host does not resolve or refuses connections."""


@dataclass
class _Download:
    """What every request for one file shares: the ``.part`` file, its running digest, progress bar and clocks."""

    session: requests.Session
    part: Path
    digest: Digest
    size: int | None  # published size in bytes, if known
    options: FetchOptions
    bar: tqdm
    cancel: threading.Event
    deadline: float | None  # time.monotonic() by which the file must be complete
    kept: int = 0  # bytes of the .part file found at the start of the current URL still in use
    received: int = 0  # bytes the current URL sent
    stalled_s: float = 0.0  # seconds the current URL kept us waiting without bytes, summed over its requests

    def restart(self) -> None:
        """Drop the partial bytes: the next request starts from byte 0."""
        self.part.unlink(missing_ok=True)
        self.digest.reset()
        self.bar.reset(total=self.bar.total)
        self.kept = 0

    def timeout(self, limit_s: float) -> float:
        """``limit_s`` shortened so that neither the stall limit nor the deadline is overrun."""
        left = self.options.stall_s - self.stalled_s
        if self.deadline is not None:
            left = min(left, self.deadline - time.monotonic())
        return max(0.05, min(limit_s, left))

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise DownloadCancelled(f"{self.part.name}: stopped after {self.digest.nbytes} bytes; run again to resume")

    def check_clock(self, url: str) -> None:
        """Raise when the deadline has passed (the whole file) or ``url`` stalled too long (this URL)."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise DownloadTimedOut(
                f"{self.part.name.removesuffix('.part')}: not complete after {self.options.deadline_s:g} s "
                f"(downloading {url}, {self.digest.nbytes} bytes kept); raise the deadline (--deadline SECONDS) "
                "or run again to resume")
        if self.stalled_s >= self.options.stall_s:
            raise _NextURL(f"no new bytes for {self.stalled_s:.0f} s in all; raise the stall limit "
                           "(--stall-timeout SECONDS) or run again to resume")


def partial_path(dest: Path) -> Path:
    """Where the bytes of ``dest`` collect until their checksum matches."""
    return dest.with_name(dest.name + ".part")


def move_aside(path: Path, dest: Path) -> Path:
    """Rename ``path`` to ``<dest>.corrupt-<UTC time>`` and return the new path.

    Only the latest bad copy is worth inspecting: copies moved aside earlier for ``dest`` are deleted,
    so repeated bad downloads do not pile up.
    """
    for old in dest.parent.glob(f"{glob.escape(dest.name)}.corrupt-*"):
        if old != path:
            old.unlink(missing_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = dest.with_name(f"{dest.name}.corrupt-{stamp}")
    os.replace(path, target)
    return target


def fetch_file(
    urls: Sequence[str],
    dest: Path,
    *,
    checksums: Mapping[str, str],
    size: int | None = None,
    options: FetchOptions | None = None,
    progress: bool = True,
    position: int | None = None,
    cancel: threading.Event | None = None,
) -> Transfer:
    """Download ``dest`` from the first of ``urls`` that delivers bytes with the published ``checksums``.

    Parameters
    ----------
    urls
        Direct download URLs, tried in order.
    dest
        Final path; it only ever receives bytes whose checksums all match.
    checksums
        Published hex digests by algorithm (``md5``, ``sha256``); at least one.
    size
        Published size in bytes, if known: an answer that ends before it is resumed.
    progress, position
        Show a tqdm bar (bytes, rate, ETA) at screen row ``position``.
    cancel
        When set (by another thread), stop with :class:`DownloadCancelled`: at once for a :class:`Cancel`
        (its connections are shut down), at the next chunk or timeout for a plain event.

    Raises
    ------
    ChecksumMismatch
        The only URL delivered other bytes (moved aside; the error names where, and both digests).
    DownloadTimedOut
        The file was not complete within ``options.deadline_s``.
    HostUnreachable
        No URL's host could be reached (name resolution failed or the connection was refused).
    DownloadError
        No URL delivered the file; the message says what each one did.
    """
    if not checksums:
        raise ConfigError(f"{dest.name}: no checksum to verify the download against")
    options = options or FetchOptions()
    part = partial_path(dest)
    digest = Digest(checksums)
    cancel = threading.Event() if cancel is None else cancel
    deadline = None if options.deadline_s is None else time.monotonic() + options.deadline_s
    failures: list[str] = []
    unreachable: list[str] = []
    mismatches: list[ChecksumMismatch] = []
    with tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name, disable=bar_disabled(progress),
              position=position, leave=True, dynamic_ncols=True) as bar, requests.Session() as session:
        session.headers["User-Agent"] = f"eventpipe/{__version__}"
        if part.exists():
            digest.feed_file(part, bar=bar)
        job = _Download(session, part, digest, size, options, bar, cancel, deadline)
        for url in urls:
            job.kept, job.received, job.stalled_s = digest.nbytes, 0, 0.0
            try:
                attempts = _fetch_from(job, url)
            except _NextURL as exc:
                failures.append(f"{url}: {exc}")
                if isinstance(exc, _Unreachable):
                    unreachable.append(f"{exc} ({url})")
                continue
            bad = first_mismatch(checksums, digest.hexdigests())
            if bad is None:
                os.replace(part, dest)
                return Transfer(url, job.received, job.kept, attempts)
            aside = move_aside(part, dest)
            mismatch = ChecksumMismatch(aside, *bad)
            mismatches.append(mismatch)
            failures.append(f"{url}: {mismatch}")
            digest.reset()
            bar.reset(total=size)
    if len(failures) == 1 and mismatches:
        raise mismatches[0]
    if not failures:
        raise DownloadError(f"{dest.name}: no URL to download it from")
    if len(unreachable) == len(failures):
        more = len(failures) - 1
        more_urls = f" (and {more} more URL{'s' if more > 1 else ''})" if more else ""
        raise HostUnreachable(f"{dest.name}: {unreachable[0]}{more_urls}; no network? Download it by hand "
                              "and pass its folder with --source DIR")
    if len(failures) == 1:
        raise DownloadError(f"{dest.name}: {failures[0]}")
    raise DownloadError(f"{dest.name}: no URL delivered the file:\n  " + "\n  ".join(failures))


def _fetch_from(job: _Download, url: str) -> int:
    """Complete ``job.part`` from ``url``; returns the number of requests made. Raises ``_NextURL``."""
    digest, size = job.digest, job.size
    attempts = failures = 0
    while True:
        job.check_clock(url)
        attempts += 1
        before = digest.nbytes
        try:
            _stream_once(job, url)
            job.check_cancel()  # a connection shut down by a cancel ends like a short answer
            if size is not None and digest.nbytes < size:
                raise _Retry(f"the answer ended after {digest.nbytes} of {size} bytes")
            return attempts
        except _Retry as exc:
            job.check_cancel()
            failures = 1 if digest.nbytes > before else failures + 1  # progress earns a fresh budget
            job.check_clock(url)
            if failures > job.options.retries:
                raise _NextURL(f"gave up after {attempts} attempts: {exc}") from exc
            pause = job.options.backoff(failures, exc.retry_after_s)
            if job.deadline is not None:
                pause = min(pause, max(0.0, job.deadline - time.monotonic()))
            if job.cancel.wait(pause):
                raise DownloadCancelled(f"{job.part.name}: stopped; run again to resume") from exc


def _stream_once(job: _Download, url: str) -> None:
    """One request: append what the server sends after ``job.digest.nbytes`` to ``job.part``."""
    digest, size = job.digest, job.size
    if size is not None and digest.nbytes > size:
        job.restart()
    offset = digest.nbytes
    if size is not None and offset == size and offset > 0:
        return  # the .part file is complete: only the checksum is left to check
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    response = _open(job, url, headers)
    with response, _watching(job.cancel, response):
        status = response.status_code
        if status == 416 and offset:
            if _range_total(response.headers.get("Content-Range")) == offset:
                return  # nothing after what we have: complete
            job.restart()
            raise _Retry("the server cannot resume from our offset; starting over")
        if status >= 500 or status in RETRY_STATUSES:
            raise _Retry(f"HTTP {status} {response.reason}", _retry_after(response.headers.get("Retry-After")))
        if status == 206:
            start = _range_start(response.headers.get("Content-Range"))
            if start != offset:
                job.restart()
                raise _Retry(f"asked for bytes from {offset}, the server sent bytes from {start}")
        elif status == 200:
            if offset:
                job.restart()  # the server ignored Range: take the whole body
        else:
            raise _NextURL(f"HTTP {status} {response.reason}".strip())
        with open(job.part, "ab") as fh:
            for chunk in _chunks(job, response):
                job.check_cancel()
                job.check_clock(url)
                fh.write(chunk)
                job.received += len(chunk)
                digest.update(chunk)
                job.bar.update(len(chunk))


def _watching(cancel: threading.Event, response: requests.Response) -> contextlib.AbstractContextManager[None]:
    return cancel.watching(response) if isinstance(cancel, Cancel) else contextlib.nullcontext()


def _chunks(job: _Download, response: requests.Response) -> Iterator[bytes]:
    """The body as sent (no content decoding: checksums cover the published bytes); network errors -> _Retry.

    ``read1`` returns whatever has arrived (up to ``chunk_bytes``), so the bytes received before a stall
    or a dropped connection are kept; urllib3 < 2 only has ``read``. Time spent waiting in vain counts
    towards the stall limit.
    """
    read = getattr(response.raw, "read1", response.raw.read)
    while True:
        waiting_since = time.monotonic()
        try:
            chunk = read(job.options.chunk_bytes, decode_content=False)
        except NETWORK_ERRORS as exc:
            job.stalled_s += time.monotonic() - waiting_since
            raise _Retry(f"connection lost: {type(exc).__name__}: {exc}") from exc
        if not chunk:
            return
        yield chunk


def _open(job: _Download, url: str, headers: dict[str, str]) -> requests.Response:
    """GET ``url`` following redirects by hand; an https URL never continues over plain http."""
    options = job.options
    current = url
    for _ in range(options.max_redirects + 1):
        waiting_since = time.monotonic()
        try:
            response = job.session.get(
                current, headers=headers, stream=True, allow_redirects=False,
                timeout=(job.timeout(options.connect_timeout_s), job.timeout(options.read_timeout_s)))
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema) as exc:
            raise _NextURL(f"invalid URL: {exc}") from exc
        except NETWORK_ERRORS as exc:
            job.stalled_s += time.monotonic() - waiting_since
            unreachable = _unreachable(exc, current)
            if unreachable:
                raise _Unreachable(unreachable) from exc
            raise _Retry(f"{type(exc).__name__}: {exc}") from exc
        location = job.session.get_redirect_target(response)
        if location is None:
            return response
        response.close()
        target = urljoin(current, location)
        problem = redirect_problem(current, target)
        if problem:
            raise _NextURL(problem)
        current = target
    raise _NextURL(f"more than {options.max_redirects} redirects")


def _unreachable(exc: BaseException, url: str) -> str | None:
    """A one-line reason when ``exc`` says the host of ``url`` cannot be resolved or refused the connection."""
    parts = urlsplit(url)
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        err = todo.pop()
        if not isinstance(err, BaseException) or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, urllib3.exceptions.NameResolutionError | socket.gaierror):
            return f"cannot resolve the host name {parts.hostname!r}"
        if isinstance(err, ConnectionRefusedError):
            return f"connection refused by {parts.netloc}"
        todo += [*err.args, getattr(err, "reason", None), err.__cause__, err.__context__]
    return None


def redirect_problem(source: str, target: str) -> str | None:
    """Why a redirect from ``source`` to ``target`` must not be followed, or ``None`` when it may."""
    old, new = urlsplit(source).scheme.lower(), urlsplit(target).scheme.lower()
    if new not in ("http", "https"):
        return f"refusing a redirect to a non-HTTP URL: {target}"
    if old == "https" and new != "https":
        return f"refusing a redirect from https to plain http: {target}"
    return None


def _range_start(content_range: str | None) -> int | None:
    """First byte of ``Content-Range: bytes START-END/TOTAL`` (None when absent or malformed)."""
    try:
        unit, _, spec = (content_range or "").partition(" ")
        return int(spec.split("-", 1)[0]) if unit.strip().lower() == "bytes" else None
    except ValueError:
        return None


def _range_total(content_range: str | None) -> int | None:
    """TOTAL of ``Content-Range: bytes */TOTAL`` (None when absent, unknown or malformed)."""
    try:
        return int((content_range or "").rsplit("/", 1)[1])
    except (IndexError, ValueError):
        return None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the exponential backoff is good enough
