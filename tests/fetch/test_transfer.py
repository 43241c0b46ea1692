"""fetch_file against a real local HTTP server with injected faults."""

from __future__ import annotations

import hashlib
import socket
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpipe.errors import ChecksumMismatch, ConfigError, DownloadError
from eventpipe.fetch import FetchOptions, HostUnreachable, fetch_file
from eventpipe.fetch.transfer import DownloadTimedOut, partial_path, redirect_problem

from .conftest import FAST, digests, payload
from .faultserver import Corrupt, Drop, IgnoreRange, Redirect, Stall, Status, WrongLength

DATA = payload(300_000, seed=1)
SUMS = digests(DATA)


def _only_good_file(dest: Path, data: bytes = DATA) -> None:
    """dest holds exactly the published bytes and no partial file is left."""
    assert dest.read_bytes() == data
    assert not partial_path(dest).exists()
    assert not list(dest.parent.glob(f"{dest.name}.corrupt-*"))


def test_plain_download(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA)
    dest = tmp_path / "a.bin"
    t = fetch_file([server.url("/a.bin")], dest, checksums=SUMS, size=len(DATA), options=FAST, progress=False)
    _only_good_file(dest)
    assert (t.url, t.received, t.resumed_from, t.attempts) == (server.url("/a.bin"), len(DATA), 0, 1)
    assert server.requests_for("/a.bin")[0].range is None


@pytest.mark.parametrize("size_known", [True, False])
def test_dropped_connection_resumes_from_the_right_offset(server, tmp_path: Path, size_known: bool) -> None:
    server.add("/a.bin", DATA, faults=[Drop(after=123_457)])
    dest = tmp_path / "a.bin"
    t = fetch_file([server.url("/a.bin")], dest, checksums=SUMS, size=len(DATA) if size_known else None,
                   options=FAST, progress=False)
    _only_good_file(dest)
    ranges = [r.range for r in server.requests_for("/a.bin")]
    assert ranges == [None, "bytes=123457-"]
    assert t.received == len(DATA) and t.attempts == 2


def test_resume_of_a_part_file_left_by_an_earlier_run_rehashes_its_prefix(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA)
    dest = tmp_path / "a.bin"
    partial_path(dest).write_bytes(DATA[:200_000])
    t = fetch_file([server.url("/a.bin")], dest, checksums=SUMS, options=FAST, progress=False)
    _only_good_file(dest)
    assert [r.range for r in server.requests] == ["bytes=200000-"]
    assert (t.received, t.resumed_from) == (100_000, 200_000)


def test_a_part_file_with_wrong_bytes_is_caught_and_moved_aside(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA)
    dest = tmp_path / "a.bin"
    partial_path(dest).write_bytes(b"\0" * 1000)  # not the first 1000 bytes of DATA
    with pytest.raises(ChecksumMismatch):
        fetch_file([server.url("/a.bin")], dest, checksums=SUMS, options=FAST, progress=False)
    assert not dest.exists() and not partial_path(dest).exists()
    (aside,) = tmp_path.glob("a.bin.corrupt-*")
    assert aside.read_bytes()[:1000] == b"\0" * 1000


def test_500_then_success(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[Status(500), Status(503, {"Retry-After": "0"})])
    dest = tmp_path / "a.bin"
    t = fetch_file([server.url("/a.bin")], dest, checksums=SUMS, options=FAST, progress=False)
    _only_good_file(dest)
    assert t.attempts == 3 and len(server.requests) == 3


def test_429_is_retried(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[Status(429, {"Retry-After": "0"})])
    fetch_file([server.url("/a.bin")], tmp_path / "a.bin", checksums=SUMS, options=FAST, progress=False)
    _only_good_file(tmp_path / "a.bin")


def test_404_on_the_first_mirror_then_the_second(server, server2, tmp_path: Path) -> None:
    server2.add("/data/a.bin", DATA)
    dest = tmp_path / "a.bin"
    t = fetch_file([server.url("/missing/a.bin"), server2.url("/data/a.bin")], dest, checksums=SUMS,
                   options=FAST, progress=False)
    _only_good_file(dest)
    assert t.url == server2.url("/data/a.bin")
    assert len(server.requests) == 1  # a 404 is not retried


def test_persistent_5xx_falls_through_to_the_next_mirror(server, server2, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[Status(502)] * 10)
    server2.add("/a.bin", DATA)
    dest = tmp_path / "a.bin"
    t = fetch_file([server.url("/a.bin"), server2.url("/a.bin")], dest, checksums=SUMS, options=FAST,
                   progress=False)
    _only_good_file(dest)
    assert t.url == server2.url("/a.bin")
    assert len(server.requests) == FAST.retries + 1


def test_every_url_failing_names_each(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[Status(500)] * 10)
    dest = tmp_path / "a.bin"
    with pytest.raises(DownloadError) as err:
        fetch_file([server.url("/a.bin"), server.url("/gone.bin")], dest, checksums=SUMS, options=FAST,
                   progress=False)
    message = str(err.value)
    assert "a.bin" in message and "HTTP 500" in message and "HTTP 404" in message and "/gone.bin" in message
    assert not dest.exists()


@pytest.mark.parametrize("size_known", [True, False])
def test_content_length_larger_than_the_body(server, tmp_path: Path, size_known: bool) -> None:
    server.add("/a.bin", DATA, faults=[WrongLength(claimed=len(DATA) + 5000)])
    dest = tmp_path / "a.bin"
    fetch_file([server.url("/a.bin")], dest, checksums=SUMS, size=len(DATA) if size_known else None,
               options=FAST, progress=False)
    _only_good_file(dest)


def test_content_length_smaller_than_the_file_resumes_when_the_size_is_published(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[WrongLength(claimed=100_000)])
    dest = tmp_path / "a.bin"
    fetch_file([server.url("/a.bin")], dest, checksums=SUMS, size=len(DATA), options=FAST, progress=False)
    _only_good_file(dest)
    assert [r.range for r in server.requests] == [None, "bytes=100000-"]


def test_content_length_smaller_without_a_size_is_caught_by_the_checksum(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[WrongLength(claimed=100_000)])
    dest = tmp_path / "a.bin"
    with pytest.raises(ChecksumMismatch):
        fetch_file([server.url("/a.bin")], dest, checksums=SUMS, options=FAST, progress=False)
    assert not dest.exists()
    (aside,) = tmp_path.glob("a.bin.corrupt-*")
    assert aside.stat().st_size == 100_000


def test_wrong_checksum_moves_the_bytes_aside_and_names_both_hashes(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[Corrupt()])
    dest = tmp_path / "a.bin"
    with pytest.raises(ChecksumMismatch) as err:
        fetch_file([server.url("/a.bin")], dest, checksums=SUMS, options=FAST, progress=False)
    bad = bytes([DATA[0] ^ 0xFF]) + DATA[1:]
    message = str(err.value)
    assert "a.bin" in message
    assert SUMS["sha256"] in message and hashlib.sha256(bad).hexdigest() in message
    assert not dest.exists() and not partial_path(dest).exists()
    (aside,) = tmp_path.glob("a.bin.corrupt-*")
    assert aside.read_bytes() == bad and err.value.path == str(aside)


def test_a_corrupt_mirror_is_followed_by_a_good_one(server, server2, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[Corrupt()])
    server2.add("/a.bin", DATA)
    dest = tmp_path / "a.bin"
    t = fetch_file([server.url("/a.bin"), server2.url("/a.bin")], dest, checksums=SUMS, options=FAST,
                   progress=False)
    assert dest.read_bytes() == DATA and t.url == server2.url("/a.bin")
    assert len(list(tmp_path.glob("a.bin.corrupt-*"))) == 1  # kept for inspection, never in place


def test_a_stalled_server_times_out_and_the_retry_resumes(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[Stall(after=50_000)])
    dest = tmp_path / "a.bin"
    t = fetch_file([server.url("/a.bin")], dest, checksums=SUMS, size=len(DATA), options=FAST, progress=False)
    _only_good_file(dest)
    assert [r.range for r in server.requests] == [None, "bytes=50000-"] and t.attempts == 2


def test_a_server_that_always_stalls_gives_up_quickly(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[Stall(after=0)] * 10)
    dest = tmp_path / "a.bin"
    options = FetchOptions(read_timeout_s=0.2, retries=1, backoff_s=0.01, backoff_max_s=0.02)
    with pytest.raises(DownloadError, match="(?i)timed out"):
        fetch_file([server.url("/a.bin")], dest, checksums=SUMS, options=options, progress=False)
    assert not dest.exists() and len(server.requests) == 2


def test_a_server_ignoring_range_restarts_from_zero(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[Drop(after=1000), IgnoreRange()])
    dest = tmp_path / "a.bin"
    fetch_file([server.url("/a.bin")], dest, checksums=SUMS, options=FAST, progress=False)
    _only_good_file(dest)


def test_redirects_are_followed_with_the_range_header(server, server2, tmp_path: Path) -> None:
    server2.add("/real.bin", DATA)
    server.add("/a.bin", DATA, faults=[Drop(after=4096), Redirect(server2.url("/real.bin"))])
    dest = tmp_path / "a.bin"
    fetch_file([server.url("/a.bin")], dest, checksums=SUMS, options=FAST, progress=False)
    _only_good_file(dest)
    assert [r.range for r in server2.requests] == ["bytes=4096-"]


def test_https_is_never_redirected_to_plain_http(tls_server, server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA)
    tls_server.add("/good.bin", DATA)
    tls_server.add("/a.bin", DATA, faults=[Redirect(server.url("/a.bin"))])
    dest = tmp_path / "a.bin"
    with pytest.raises(DownloadError, match="https to plain http"):
        fetch_file([tls_server.url("/a.bin")], dest, checksums=SUMS, options=FAST, progress=False)
    assert server.requests == [] and not dest.exists()
    # over https the same download works, and the next mirror is used after a refused redirect
    tls_server.add("/a.bin", DATA, faults=[Redirect(server.url("/a.bin"))])
    t = fetch_file([tls_server.url("/a.bin"), tls_server.url("/good.bin")], dest, checksums=SUMS, options=FAST,
                   progress=False)
    assert t.url == tls_server.url("/good.bin") and dest.read_bytes() == DATA


def test_redirect_policy() -> None:
    assert redirect_problem("https://a/x", "https://b/y") is None
    assert redirect_problem("http://a/x", "https://b/y") is None
    assert redirect_problem("http://a/x", "http://b/y") is None
    assert "plain http" in (redirect_problem("https://a/x", "http://b/y") or "")
    assert "non-HTTP" in (redirect_problem("https://a/x", "ftp://b/y") or "")
    assert "non-HTTP" in (redirect_problem("http://a/x", "file:///etc/passwd") or "")


def test_proxy_environment_variables_are_honoured(server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server.add("/datasets/a.bin", DATA)
    proxy = f"http://127.0.0.1:{server.port}"
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("http_proxy", proxy)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("no_proxy", "")
    dest = tmp_path / "a.bin"
    fetch_file(["http://files.example.invalid/datasets/a.bin"], dest, checksums=SUMS, options=FAST, progress=False)
    _only_good_file(dest)
    (req,) = server.requests
    assert req.proxied and req.host == "files.example.invalid"


def test_progress_bar_shows_bytes_rate(server, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal (bars are left out of logs; see tests/test_progress.py)."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    server.add("/a.bin", DATA)
    fetch_file([server.url("/a.bin")], tmp_path / "a.bin", checksums=SUMS, size=len(DATA), options=FAST,
               progress=True)
    err = capsys.readouterr().err
    assert "a.bin" in err and "B/s" in err and "100%" in err


def test_no_url_and_no_checksum_are_errors(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="no URL"):
        fetch_file([], tmp_path / "a.bin", checksums=SUMS, progress=False)
    with pytest.raises(ConfigError, match="no checksum"):
        fetch_file(["http://127.0.0.1:9/a"], tmp_path / "a.bin", checksums={}, progress=False)


def _closed_port() -> int:
    """A 127.0.0.1 port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("where", ["unresolvable", "refused"])
def test_an_unreachable_host_fails_fast_in_one_line_that_suggests_source(tmp_path: Path, where: str) -> None:
    url = "http://nonexistent.invalid/a.bin" if where == "unresolvable" else f"http://127.0.0.1:{_closed_port()}/a.bin"
    start = time.monotonic()
    with pytest.raises(HostUnreachable) as err:
        fetch_file([url, url.replace("a.bin", "b.bin")], tmp_path / "a.bin", checksums=SUMS, progress=False)
    message = str(err.value)
    assert time.monotonic() - start < 5  # default options: no retry loop with backoff
    assert "\n" not in message and message.startswith("a.bin: ") and "--source DIR" in message
    assert ("cannot resolve the host name 'nonexistent.invalid'" if where == "unresolvable" else
            "connection refused by 127.0.0.1") in message


def test_an_unreachable_mirror_is_skipped_for_the_next_url(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA)
    dest = tmp_path / "a.bin"
    t = fetch_file([f"http://127.0.0.1:{_closed_port()}/a.bin", server.url("/a.bin")], dest, checksums=SUMS,
                   progress=False)
    assert t.url == server.url("/a.bin") and dest.read_bytes() == DATA


@pytest.mark.parametrize(("field", "value"), [("read_timeout_s", 0), ("retries", -1), ("chunk_bytes", 0),
                                              ("max_workers", 0), ("backoff_s", -1.0)])
def test_options_are_validated(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        FetchOptions(**{field: value})


@given(failures=st.integers(1, 30), base=st.floats(0.0, 5.0), cap=st.floats(0.01, 100.0))
def test_backoff_is_exponential_with_jitter_and_capped(failures: int, base: float, cap: float) -> None:
    options = FetchOptions(backoff_s=base, backoff_max_s=cap)
    delay = min(cap, base * 2 ** (failures - 1))
    assert delay / 2 <= options.backoff(failures) <= delay
    assert options.backoff(failures, retry_after_s=1e9) == cap


def test_a_server_that_sends_a_little_then_stalls_again_and_again_hits_the_stall_limit(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[Stall(after=10_000)] * 25)  # progress each time: the retry budget resets
    dest = tmp_path / "a.bin"
    options = FetchOptions(read_timeout_s=0.2, stall_s=0.7, backoff_s=0.01, backoff_max_s=0.02)
    start = time.monotonic()
    with pytest.raises(DownloadError) as err:
        fetch_file([server.url("/a.bin")], dest, checksums=SUMS, size=len(DATA), options=options, progress=False)
    message = str(err.value)
    assert time.monotonic() - start < 3 and len(server.requests) <= 6
    assert "\n" not in message and message.startswith("a.bin: " + server.url("/a.bin"))
    assert "--stall-timeout" in message
    assert 0 < partial_path(dest).stat().st_size < len(DATA) and not dest.exists()


@pytest.mark.parametrize("fault", ["trickle", "silent"])
def test_the_deadline_ends_a_download_in_one_line_and_keeps_the_part_file(server, tmp_path: Path,
                                                                          fault: str) -> None:
    if fault == "trickle":  # bytes keep coming, too slowly: no read ever times out
        server.add("/a.bin", DATA, chunk_delay_s=0.3)
    else:  # a long stall on a generous read timeout
        server.add("/a.bin", DATA, faults=[Stall(after=20_000)])
    dest = tmp_path / "a.bin"
    options = FetchOptions(read_timeout_s=30, deadline_s=0.5, backoff_s=0.01, backoff_max_s=0.02)
    start = time.monotonic()
    with pytest.raises(DownloadTimedOut) as err:
        fetch_file([server.url("/a.bin")], dest, checksums=SUMS, size=len(DATA), options=options, progress=False)
    message = str(err.value)
    assert time.monotonic() - start < 1.5
    assert "\n" not in message and message.startswith("a.bin: ")
    assert server.url("/a.bin") in message and "--deadline" in message
    assert partial_path(dest).stat().st_size > 0


def test_a_server_ignoring_range_reports_no_resume(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[IgnoreRange()])
    dest = tmp_path / "a.bin"
    partial_path(dest).write_bytes(DATA[:200_000])
    t = fetch_file([server.url("/a.bin")], dest, checksums=SUMS, options=FAST, progress=False)
    _only_good_file(dest)
    assert [r.range for r in server.requests] == ["bytes=200000-"]
    assert (t.received, t.resumed_from) == (len(DATA), 0)


def test_repeated_bad_downloads_keep_only_the_latest_corrupt_copy(server, tmp_path: Path) -> None:
    server.add("/a.bin", DATA, faults=[Corrupt()] * 3)
    dest = tmp_path / "a.bin"
    for _ in range(3):
        with pytest.raises(ChecksumMismatch) as err:
            fetch_file([server.url("/a.bin")], dest, checksums=SUMS, options=FAST, progress=False)
    (aside,) = tmp_path.glob("a.bin.corrupt-*")
    assert err.value.path == str(aside) and str(aside) in str(err.value)
