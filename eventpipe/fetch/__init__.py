"""Manifests, resumable verified downloads and safe archive extraction.

This package is the only part of eventpipe that opens network connections.

>>> from eventpipe.fetch import load_manifest
>>> load_manifest("dvs128").files[0].name
'DvsGesture.tar.gz'

- :func:`load_manifest`: a dataset's files, URLs (mirrors first-class), sizes, checksums, license.
- :func:`download_dataset`: make ``<root>/<name>/raw`` complete and verified (idempotent, resumable).
- :func:`verify_raw` / :func:`verify_stores`: re-hash raw files; check every store's integrity.
- :func:`packaged_path`: the TOML files shipped with eventpipe (``"manifest"`` or ``"pipeline"``).
"""

from __future__ import annotations

from eventpipe.fetch.download import DownloadResult, FileOutcome, download_dataset, raw_dir_for
from eventpipe.fetch.extract import extract_archive
from eventpipe.fetch.manifests import (
    FileEntry,
    Manifest,
    load_manifest,
    manifest_names,
    packaged_dir,
    packaged_names,
    packaged_path,
)
from eventpipe.fetch.transfer import FetchOptions, Transfer, fetch_file
from eventpipe.fetch.verify import Check, VerifyReport, verify_raw, verify_stores

__all__ = [
    "Check",
    "DownloadResult",
    "FetchOptions",
    "FileEntry",
    "FileOutcome",
    "Manifest",
    "Transfer",
    "VerifyReport",
    "download_dataset",
    "extract_archive",
    "fetch_file",
    "load_manifest",
    "manifest_names",
    "packaged_dir",
    "packaged_names",
    "packaged_path",
    "raw_dir_for",
    "verify_raw",
    "verify_stores",
]
