"""Resumable, verified HTTP(S) download of one file, with retries and mirrors.

How a file travels (``dest`` is its final path):

1. Bytes stream into ``dest.name + ".part"`` and through the checksums at once. A ``.part`` left by an
   earlier run is re-hashed first and the download resumes after it with an HTTP ``Range`` request.
2. Connection errors, timeouts, HTTP 5xx/408/429 and bodies that end early are retried on the same URL
   with exponential backoff and jitter; a retry that received bytes resets the budget. Other answers
   (404, 403, ...) and exhausted retries move on to the next URL: every mirror is first-class, and
   the ``.part`` prefix carries over to it, since mirrors serve the same bytes.
3. Redirects are followed by hand so that an https URL is never redirected to plain http.
4. When the stream ends, the checksums decide: a match renames ``.part`` to ``dest`` (the only way a file
   gets there); a mismatch moves the bytes aside to ``dest.name + ".corrupt-<UTC time>"`` (kept for
   inspection, never used) and the next URL is tried.

``requests`` does the HTTP work; it honours the ``HTTP(S)_PROXY``/``NO_PROXY`` and ``REQUESTS_CA_BUNDLE``
environment variables.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from tqdm.auto import tqdm

from eventpipe._version import __version__
from eventpipe.errors import ChecksumMismatch, ConfigError, DownloadError
from eventpipe.fetch.hashing import Digest, first_mismatch

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
    """

    connect_timeout_s: float = 15.0
    read_timeout_s: float = 60.0
    retries: int = 5
    backoff_s: float = 1.0
    backoff_max_s: float = 60.0
    chunk_bytes: int = 1 << 20
    max_workers: int = 4
    max_redirects: int = 10

    def __post_init__(self) -> None:
        for name in ("connect_timeout_s", "read_timeout_s", "backoff_max_s"):
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
    received: int  # bytes received over the network in this call
    resumed_from: int  # bytes already in the ``.part`` file when the first request to ``url`` went out
    attempts: int  # HTTP requests made on the URL that succeeded


class DownloadCancelled(DownloadError):
    """The download was stopped on request (its ``.part`` file stays, to resume later)."""


class _Retry(Exception):
    """A transient failure: try the same URL again after a pause."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class _NextURL(Exception):
    """This URL cannot deliver the file: go on to the next one."""


@dataclass(frozen=True)
class _Download:
    """What every request for one file shares: the ``.part`` file, its running digest and progress bar."""

    session: requests.Session
    part: Path
    digest: Digest
    size: int | None  # published size in bytes, if known
    options: FetchOptions
    bar: tqdm
    cancel: threading.Event

    def restart(self) -> None:
        """Drop the partial bytes: the next request starts from byte 0."""
        self.part.unlink(missing_ok=True)
        self.digest.reset()
        self.bar.reset(total=self.bar.total)


def partial_path(dest: Path) -> Path:
    """Where the bytes of ``dest`` collect until their checksum matches."""
    return dest.with_name(dest.name + ".part")


def move_aside(path: Path, dest: Path) -> Path:
    """Rename ``path`` to ``<dest>.corrupt-<UTC time>`` (a fresh name) and return the new path."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = dest.with_name(f"{dest.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = dest.with_name(f"{dest.name}.corrupt-{stamp}-{n}")
        n += 1
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
        When set (by another thread), stop at the next chunk with :class:`DownloadCancelled`.

    Raises
    ------
    ChecksumMismatch
        The only URL delivered other bytes (moved aside; the error names where, and both digests).
    DownloadError
        No URL delivered the file; the message lists what each one did.
    """
    if not checksums:
        raise ConfigError(f"{dest.name}: no checksum to verify the download against")
    options = options or FetchOptions()
    part = partial_path(dest)
    digest = Digest(checksums)
    cancel = threading.Event() if cancel is None else cancel
    failures: list[str] = []
    mismatches: list[ChecksumMismatch] = []
    with tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name, disable=not progress,
              position=position, leave=True, dynamic_ncols=True) as bar, requests.Session() as session:
        session.headers["User-Agent"] = f"eventpipe/{__version__}"
        if part.exists():
            digest.feed_file(part, bar=bar)
        job = _Download(session, part, digest, size, options, bar, cancel)
        for url in urls:
            received_before = digest.nbytes
            try:
                attempts, received = _fetch_from(job, url)
            except _NextURL as exc:
                failures.append(f"{url}: {exc}")
                continue
            bad = first_mismatch(checksums, digest.hexdigests())
            if bad is None:
                os.replace(part, dest)
                return Transfer(url, received, received_before, attempts)
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
    raise DownloadError(f"{dest.name}: no URL delivered the file:\n  " + "\n  ".join(failures))


def _fetch_from(job: _Download, url: str) -> tuple[int, int]:
    """Complete ``job.part`` from ``url``; returns (requests made, bytes received). Raises ``_NextURL``."""
    digest, size = job.digest, job.size
    attempts = failures = received = 0
    while True:
        attempts += 1
        before = digest.nbytes
        try:
            _stream_once(job, url)
            received += max(0, digest.nbytes - before)
            if size is not None and digest.nbytes < size:
                raise _Retry(f"the answer ended after {digest.nbytes} of {size} bytes")
            return attempts, received
        except _Retry as exc:
            received += max(0, digest.nbytes - before)
            failures = 1 if digest.nbytes > before else failures + 1  # progress earns a fresh budget
            if failures > job.options.retries:
                raise _NextURL(f"gave up after {attempts} attempts: {exc}") from exc
            if job.cancel.wait(job.options.backoff(failures, exc.retry_after_s)):
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
    response = _open(job.session, url, headers, job.options)
    with response:
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
            for chunk in _chunks(response, job.options.chunk_bytes):
                if job.cancel.is_set():
                    raise DownloadCancelled(
                        f"{job.part.name}: stopped after {digest.nbytes} bytes; run again to resume"
                    )
                fh.write(chunk)
                digest.update(chunk)
                job.bar.update(len(chunk))


def _chunks(response: requests.Response, chunk_bytes: int) -> Iterator[bytes]:
    """The body as sent (no content decoding: checksums cover the published bytes); network errors -> _Retry.

    ``read1`` returns whatever has arrived (up to ``chunk_bytes``), so the bytes received before a stall
    or a dropped connection are kept; urllib3 < 2 only has ``read``.
    """
    read = getattr(response.raw, "read1", response.raw.read)
    while True:
        try:
            chunk = read(chunk_bytes, decode_content=False)
        except NETWORK_ERRORS as exc:
            raise _Retry(f"connection lost: {type(exc).__name__}: {exc}") from exc
        if not chunk:
            return
        yield chunk


def _open(session: requests.Session, url: str, headers: dict[str, str], options: FetchOptions) -> requests.Response:
    """GET ``url`` following redirects by hand; an https URL never continues over plain http."""
    current = url
    for _ in range(options.max_redirects + 1):
        try:
            response = session.get(current, headers=headers, stream=True, allow_redirects=False,
                                   timeout=(options.connect_timeout_s, options.read_timeout_s))
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema) as exc:
            raise _NextURL(f"invalid URL: {exc}") from exc
        except NETWORK_ERRORS as exc:
            raise _Retry(f"{type(exc).__name__}: {exc}") from exc
        location = session.get_redirect_target(response)
        if location is None:
            return response
        response.close()
        target = urljoin(current, location)
        problem = redirect_problem(current, target)
        if problem:
            raise _NextURL(problem)
        current = target
    raise _NextURL(f"more than {options.max_redirects} redirects")


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
