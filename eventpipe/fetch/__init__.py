"""Resumable verified downloads and safe archive extraction of the files a manifest lists.

This package is the only part of eventpipe that opens network connections. It works from a
:class:`~eventpipe.manifests.Manifest` (a packaged one by name, or a TOML file) and never consults the
dataset registry, so a dataset definition can depend on it but not the other way round.

- :func:`download_dataset`: make ``<root>/<name>/raw`` complete and verified (idempotent, resumable).
- :func:`verify_raw` / :func:`verify_stores`: re-hash raw files; check every store's integrity.
- :func:`fetch_file`: one file over HTTP(S) with mirrors, resume and checksums.
- :func:`extract_archive`: zip and tar archives unpacked without escaping their folder.
"""

from __future__ import annotations

from eventpipe.fetch.download import DownloadResult, FileOutcome, download_dataset, raw_dir_for
from eventpipe.fetch.extract import UnpackLimits, extract_archive
from eventpipe.fetch.transfer import (
    Cancel,
    DownloadCancelled,
    DownloadTimedOut,
    FetchOptions,
    HostUnreachable,
    Transfer,
    fetch_file,
)
from eventpipe.fetch.verify import Check, VerifyReport, verify_raw, verify_stores

__all__ = [
    "Cancel",
    "Check",
    "DownloadCancelled",
    "DownloadResult",
    "DownloadTimedOut",
    "FetchOptions",
    "FileOutcome",
    "HostUnreachable",
    "Transfer",
    "UnpackLimits",
    "VerifyReport",
    "download_dataset",
    "extract_archive",
    "fetch_file",
    "raw_dir_for",
    "verify_raw",
    "verify_stores",
]
