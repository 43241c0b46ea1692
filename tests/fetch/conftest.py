"""Fixtures for the fetch tests: local fault-injecting HTTP(S) servers, payloads and manifest files."""

from __future__ import annotations

import hashlib
import os
import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eventpipe.fetch import FetchOptions

from .faultserver import FaultServer

#: Short timeouts and pauses so that fault tests take milliseconds.
FAST = FetchOptions(connect_timeout_s=2.0, read_timeout_s=0.4, retries=3, backoff_s=0.01, backoff_max_s=0.05)


def payload(nbytes: int, seed: int = 0) -> bytes:
    """Deterministic random bytes."""
    return np.random.default_rng(seed).integers(0, 256, nbytes, dtype=np.uint8).tobytes()


def digests(data: bytes) -> dict[str, str]:
    return {"md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest()}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


def write_manifest(path: Path, name: str, files: list[dict[str, Any]], **top: Any) -> Path:
    """Write a schema-1 manifest TOML with ``files`` (dicts of file keys; ``members``: list of dicts)."""
    head = {"schema": 1, "name": name, "title": f"Test {name}", "homepage": "https://example.org/data",
            "license": "CC0", "citation": "nobody", **top}
    lines = [f"{k} = {toml_value(v)}" for k, v in head.items()]
    for entry in files:
        lines += ["", "[[files]]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in entry.items() if k != "members"]
        for member in entry.get("members", []):
            lines += ["", "[[files.members]]"] + [f"{k} = {toml_value(v)}" for k, v in member.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def server() -> Iterator[FaultServer]:
    srv = FaultServer()
    yield srv
    srv.close()


@pytest.fixture
def server2() -> Iterator[FaultServer]:
    srv = FaultServer()
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl tool; skip without it)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_server(tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    """An https server whose certificate the client trusts through REQUESTS_CA_BUNDLE."""
    cert, key = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    srv = FaultServer(ssl_context=context)
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def _no_proxy_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to 127.0.0.1 must not go through a proxy configured on the machine."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def listing() -> Callable[[Path], set[str]]:
    """Every path under a folder (relative), to show that nothing was written."""

    def _listing(folder: Path) -> set[str]:
        found = set()
        for current, dirs, files in os.walk(folder):
            for name in dirs + files:
                found.add(os.path.relpath(os.path.join(current, name), folder))
        return found

    return _listing
