"""download_dataset and verify_raw end to end against a local server: concurrency, unpacking,
idempotency, mirrors, manual downloads and the ``source`` flow."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from eventpipe.errors import (
    ChecksumMismatch,
    ConfigError,
    ManualDownloadRequired,
    StoreSchemaError,
    UnsafeArchiveError,
)
from eventpipe.fetch import FetchOptions, download_dataset, fetch_file, verify_raw, verify_stores
from eventpipe.fetch.transfer import DownloadCancelled, partial_path

from .conftest import FAST, digests, payload, write_manifest
from .faultserver import FaultServer


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tgz_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


TRAIN = {"Train/0/00001.bin": payload(5000, 2), "Train/1/00002.bin": payload(7000, 3)}
LABELS = {"labels/train.csv": b"id,label\n1,0\n2,1\n"}
FILES = {
    "Train.zip": _zip_bytes(TRAIN),
    "labels.tar.gz": _tgz_bytes(LABELS),
    "readme.txt": b"toy dataset\n" * 100,
}


def _entries(server: FaultServer, *, manual: tuple[str, ...] = (), members: bool = True) -> list[dict[str, Any]]:
    entries = []
    for name, data in FILES.items():
        entry: dict[str, Any] = {"name": name, "size": len(data), **digests(data), "urls": [server.url(f"/files/{name}")]}
        if name in manual:
            entry.update(manual=True, urls=[], pages=["https://example.org/browser-only"])
        if name == "Train.zip":
            entry["provides"] = ["Train"]
            if members:
                entry["members"] = [{"path": p, "md5": hashlib.md5(d).hexdigest()} for p, d in TRAIN.items()]
        entries.append(entry)
    return entries


@pytest.fixture
def toy(server: FaultServer, tmp_path: Path) -> Path:
    """A manifest for 'toyset' whose three files the server holds."""
    for name, data in FILES.items():
        server.add(f"/files/{name}", data)
    return write_manifest(tmp_path / "toyset.toml", "toyset", _entries(server))


def _get(root: Path, manifest: Path, **kwargs: Any):
    return download_dataset("toyset", root, manifest=manifest, progress=False, options=kwargs.pop("options", FAST),
                            **kwargs)


def test_download_verifies_unpacks_and_is_idempotent(server: FaultServer, toy: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    result = _get(root, toy)
    raw = root / "toyset" / "raw"
    assert result.raw_dir == raw
    assert {f.name: f.status for f in result.files} == dict.fromkeys(FILES, "downloaded")
    assert set(result.unpacked) == {"Train.zip", "labels.tar.gz"} and result.warnings == ()
    for name, data in FILES.items():
        assert (raw / name).read_bytes() == data
    for path, data in {**TRAIN, **LABELS}.items():
        assert (raw / path).read_bytes() == data
    assert not list(raw.glob("*.part")) and not list(raw.glob("*.corrupt-*"))
    n_requests = len(server.requests)

    again = _get(root, toy)
    assert {f.status for f in again.files} == {"present"} and again.unpacked == ()
    assert len(server.requests) == n_requests  # nothing fetched twice
    assert verify_raw("toyset", root, manifest=toy, progress=False).ok


def test_files_of_a_dataset_download_concurrently(server: FaultServer, tmp_path: Path) -> None:
    big = {f"part{i}.bin": payload(120_000, 10 + i) for i in range(3)}
    for name, data in big.items():
        server.add(f"/{name}", data, chunk_delay_s=0.02)
    manifest = write_manifest(tmp_path / "toyset.toml", "toyset", [
        {"name": name, **digests(data), "urls": [server.url(f"/{name}")]} for name, data in big.items()])
    _get(tmp_path / "root", manifest, options=FetchOptions(max_workers=3, read_timeout_s=5))
    assert server.max_in_flight >= 2


def test_archive_deleted_after_a_complete_unpack_is_not_fetched_again(server: FaultServer, toy: Path,
                                                                       tmp_path: Path) -> None:
    root = tmp_path / "root"
    _get(root, toy)
    (root / "toyset/raw/Train.zip").unlink()
    n_requests = len(server.requests)
    again = _get(root, toy)
    assert {f.name: f.status for f in again.files}["Train.zip"] == "unpacked"
    assert len(server.requests) == n_requests
    report = verify_raw("toyset", root, manifest=toy, progress=False)
    assert report.ok and any("archive deleted" in c.detail for c in report.checks)


def test_a_corrupt_file_in_place_is_moved_aside_and_fetched_again(server: FaultServer, toy: Path,
                                                                  tmp_path: Path) -> None:
    root = tmp_path / "root"
    raw = root / "toyset" / "raw"
    raw.mkdir(parents=True)
    (raw / "readme.txt").write_bytes(b"something else")
    result = _get(root, toy)
    assert (raw / "readme.txt").read_bytes() == FILES["readme.txt"]
    (aside,) = raw.glob("readme.txt.corrupt-*")
    assert aside.read_bytes() == b"something else"
    assert any("moved aside" in w for w in result.warnings)


def test_a_file_changed_after_verification_is_checked_again(server: FaultServer, toy: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    _get(root, toy)
    path = root / "toyset/raw/readme.txt"
    path.write_bytes(b"X" + FILES["readme.txt"][1:])
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    _get(root, toy)
    assert path.read_bytes() == FILES["readme.txt"]
    assert len(list(path.parent.glob("readme.txt.corrupt-*"))) == 1


def test_mirrors_are_tried_first(server: FaultServer, server2: FaultServer, toy: Path, tmp_path: Path) -> None:
    for name, data in FILES.items():
        server2.add(f"/mirror/{name}", data)
    result = _get(tmp_path / "root", toy, mirrors=[server2.url("/mirror/")])
    assert {f.url for f in result.files} == {server2.url(f"/mirror/{n}") for n in FILES}
    assert server.requests == []


def test_a_bad_mirror_url_is_a_config_error(toy: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--mirror"):
        _get(tmp_path / "root", toy, mirrors=["ftp://example.org/data"])


def test_a_manifest_for_another_dataset_is_refused(toy: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="describes 'toyset', not 'nmnist'"):
        download_dataset("nmnist", tmp_path, manifest=toy, progress=False)


def test_an_unsafe_archive_is_refused_and_the_other_files_completed(server: FaultServer, tmp_path: Path) -> None:
    evil = _zip_bytes({"../../escaped.txt": b"x"})
    server.add("/evil.zip", evil)
    server.add("/readme.txt", FILES["readme.txt"])
    manifest = write_manifest(tmp_path / "toyset.toml", "toyset", [
        {"name": "evil.zip", **digests(evil), "urls": [server.url("/evil.zip")]},
        {"name": "readme.txt", **digests(FILES["readme.txt"]), "urls": [server.url("/readme.txt")]}])
    root = tmp_path / "root"
    with pytest.raises(UnsafeArchiveError, match="escaped.txt"):
        _get(root, manifest)
    assert (root / "toyset/raw/readme.txt").read_bytes() == FILES["readme.txt"]
    assert not (tmp_path / "escaped.txt").exists() and not (root / "escaped.txt").exists()
    assert not (root / "toyset/raw/.eventpipe/unpacked").exists()


def test_an_archive_without_the_promised_paths_warns(server: FaultServer, tmp_path: Path) -> None:
    data = _zip_bytes({"Other/x.bin": b"1"})
    server.add("/Train.zip", data)
    manifest = write_manifest(tmp_path / "toyset.toml", "toyset", [
        {"name": "Train.zip", **digests(data), "urls": [server.url("/Train.zip")], "provides": ["Train"]}])
    result = _get(tmp_path / "root", manifest)
    assert result.warnings and "Train" in result.warnings[0]


def test_cancel_keeps_the_part_file_and_a_later_call_resumes(server: FaultServer, tmp_path: Path) -> None:
    data = payload(400_000, 7)
    server.add("/slow.bin", data, chunk_delay_s=0.01)
    dest = tmp_path / "slow.bin"
    cancel = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fetch_file([server.url("/slow.bin")], dest, checksums=digests(data), options=FAST, progress=False,
                       cancel=cancel)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 10
    while (not partial_path(dest).exists() or partial_path(dest).stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    cancel.set()
    worker.join(10)
    assert len(errors) == 1 and isinstance(errors[0], DownloadCancelled)
    kept = partial_path(dest).stat().st_size
    assert 0 < kept < len(data) and not dest.exists()
    fetch_file([server.url("/slow.bin")], dest, checksums=digests(data), options=FAST, progress=False)
    assert dest.read_bytes() == data and server.requests[-1].range == f"bytes={kept}-"


# ------------------------------------------------------------------------------------------- manual files


@pytest.fixture
def manual_toy(server: FaultServer, tmp_path: Path) -> Path:
    for name, data in FILES.items():
        server.add(f"/files/{name}", data)
    return write_manifest(tmp_path / "toyset.toml", "toyset", _entries(server, manual=("Train.zip",)))


def test_manual_files_are_described_exactly(server: FaultServer, manual_toy: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    with pytest.raises(ManualDownloadRequired) as err:
        _get(root, manual_toy)
    message = str(err.value)
    data = FILES["Train.zip"]
    for text in ("Train.zip", f"{len(data):,} bytes", hashlib.md5(data).hexdigest(),
                 hashlib.sha256(data).hexdigest(), "https://example.org/browser-only",
                 str(root / "toyset" / "raw" / "Train.zip"), "--source"):
        assert text in message
    assert "labels.tar.gz" not in message  # automatic files are simply downloaded
    (info,) = err.value.files
    assert info["name"] == "Train.zip" and info["size"] == len(data)
    assert (root / "toyset/raw/labels.tar.gz").exists()
    assert server.requests_for("/files/Train.zip") == []


def test_source_with_a_correct_copy_is_taken(manual_toy: Path, tmp_path: Path) -> None:
    source = tmp_path / "downloads" / "nested"
    source.mkdir(parents=True)
    (source / "Train.zip").write_bytes(FILES["Train.zip"])
    root = tmp_path / "root"
    result = _get(root, manual_toy, source=tmp_path / "downloads")
    statuses = {f.name: f.status for f in result.files}
    assert statuses["Train.zip"] == "copied" and "Train.zip" in result.unpacked
    assert (root / "toyset/raw/Train.zip").read_bytes() == FILES["Train.zip"]
    assert (root / "toyset/raw/Train/0/00001.bin").read_bytes() == TRAIN["Train/0/00001.bin"]
    assert (source / "Train.zip").read_bytes() == FILES["Train.zip"]  # the user's copy is untouched


def test_source_with_link_hard_links_the_copy(manual_toy: Path, tmp_path: Path) -> None:
    source = tmp_path / "downloads"
    source.mkdir()
    (source / "Train.zip").write_bytes(FILES["Train.zip"])
    root = tmp_path / "root"
    result = _get(root, manual_toy, source=source, link=True)
    assert {f.name: f.status for f in result.files}["Train.zip"] == "linked"
    assert (root / "toyset/raw/Train.zip").stat().st_ino == (source / "Train.zip").stat().st_ino


def test_source_with_a_corrupt_copy_is_refused(manual_toy: Path, tmp_path: Path) -> None:
    source = tmp_path / "downloads"
    source.mkdir()
    bad = bytearray(FILES["Train.zip"])
    bad[10] ^= 0xFF
    (source / "Train.zip").write_bytes(bytes(bad))
    root = tmp_path / "root"
    with pytest.raises(ChecksumMismatch) as err:
        _get(root, manual_toy, source=source)
    message = str(err.value)
    assert str(source / "Train.zip") in message
    assert hashlib.sha256(FILES["Train.zip"]).hexdigest() in message and hashlib.sha256(bad).hexdigest() in message
    raw = root / "toyset" / "raw"
    assert not (raw / "Train.zip").exists() and not list(raw.glob("Train.zip*")) and not (raw / "Train").exists()


def test_source_with_a_wrong_size_is_refused_without_hashing(manual_toy: Path, tmp_path: Path) -> None:
    source = tmp_path / "downloads"
    source.mkdir()
    (source / "Train.zip").write_bytes(FILES["Train.zip"][:-1])
    with pytest.raises(ChecksumMismatch, match="size mismatch"):
        _get(tmp_path / "root", manual_toy, source=source)


def test_source_missing_a_manual_file_says_so(manual_toy: Path, tmp_path: Path) -> None:
    source = tmp_path / "downloads"
    source.mkdir()
    with pytest.raises(ManualDownloadRequired, match=r"not found in .*downloads") as err:
        _get(tmp_path / "root", manual_toy, source=source)
    assert err.value.files[0]["reason"].startswith("not found")


def test_source_missing_an_automatic_file_downloads_it(server: FaultServer, manual_toy: Path, tmp_path: Path) -> None:
    source = tmp_path / "downloads"
    source.mkdir()
    (source / "Train.zip").write_bytes(FILES["Train.zip"])
    result = _get(tmp_path / "root", manual_toy, source=source)
    assert {f.name: f.status for f in result.files} == {"Train.zip": "copied", "labels.tar.gz": "downloaded",
                                                        "readme.txt": "downloaded"}


def test_a_missing_source_folder_is_an_error(manual_toy: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--source"):
        _get(tmp_path / "root", manual_toy, source=tmp_path / "nowhere")


def test_packaged_manual_dataset_names_the_box_folder(tmp_path: Path) -> None:
    with pytest.raises(ManualDownloadRequired) as err:
        download_dataset("dvs128", tmp_path, progress=False)
    message = str(err.value)
    assert "DvsGesture.tar.gz" in message and "8a5c71fb11e24e5ca5b11866ca6c00a1" in message
    assert "ibm.ent.box.com" in message and str(tmp_path / "dvs128" / "raw") in message


# -------------------------------------------------------------------------------------------------- verify


def test_verify_reports_mismatches_and_missing_files(server: FaultServer, toy: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    _get(root, toy)
    raw = root / "toyset" / "raw"
    (raw / "Train/1/00002.bin").write_bytes(b"tampered")
    (raw / "readme.txt").unlink()
    report = verify_raw("toyset", root, manifest=toy, progress=False)
    problems = {c.target: c for c in report.problems}
    assert set(problems) == {"raw/Train/1/00002.bin", "raw/readme.txt"}
    assert problems["raw/readme.txt"].status == "missing"
    tampered = problems["raw/Train/1/00002.bin"]
    assert (tampered.status, tampered.algorithm) == ("mismatch", "md5")
    assert tampered.actual == hashlib.md5(b"tampered").hexdigest()
    with pytest.raises(ChecksumMismatch, match="00002.bin"):
        report.raise_for_problems()


def test_verify_of_a_dataset_never_downloaded(tmp_path: Path) -> None:
    report = verify_raw("nmnist", tmp_path, progress=False)
    assert [c.status for c in report.checks] == ["missing", "missing"]
    with pytest.raises(FileNotFoundError, match="eventpipe download nmnist"):
        report.raise_for_problems()
    assert verify_stores("nmnist", tmp_path).checks == ()


# ---------------------------------------------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    synth = pytest.importorskip("eventpipe.synth")
    if not hasattr(synth, "write_demo_raw"):
        pytest.skip("eventpipe.synth.write_demo_raw is not available")
    root = tmp_path_factory.mktemp("demo_root")
    result = download_dataset("demo", root, progress=False)
    assert result.files and {f.status for f in result.files} == {"generated"}
    return root


def test_demo_is_generated_once_and_verified(demo_root: Path) -> None:
    again = download_dataset("demo", demo_root, progress=False)
    assert {f.status for f in again.files} == {"present"}
    assert any(f.name.endswith(".aedat") for f in again.files)
    assert verify_raw("demo", demo_root, progress=False).ok


def test_demo_tampering_is_found(demo_root: Path) -> None:
    raw = demo_root / "demo" / "raw"
    victim = sorted(raw.glob("*.aedat"))[0]
    original = victim.read_bytes()
    victim.write_bytes(original[:-4])
    try:
        report = verify_raw("demo", demo_root, progress=False)
    finally:
        victim.write_bytes(original)
    assert [c.target for c in report.problems] == [f"raw/{victim.name}"]
    assert report.problems[0].status == "mismatch"


@pytest.mark.slow
def test_verify_checks_the_integrity_of_real_stores(demo_root: Path) -> None:
    convert = pytest.importorskip("eventpipe.pipeline.convert").convert
    from eventpipe.store.markers import COMPLETE

    result = convert("demo", demo_root, workers=1, progress=False)
    report = verify_stores("demo", demo_root)
    assert [(c.target, c.kind, c.status) for c in report.checks] == [("events.zarr", "store", "ok")]
    part = sorted(Path(result.store).glob("parts/*/*/zarr.json"))[0]
    meta = json.loads(part.read_text())
    meta["attributes"][COMPLETE] = False  # as if the process died before the part was finished
    part.write_text(json.dumps(meta))
    (problem,) = verify_stores("demo", demo_root).problems
    assert problem.status == "problem" and "complete" in problem.detail
    with pytest.raises(StoreSchemaError, match="events.zarr"):
        (verify_raw("demo", demo_root, progress=False) + verify_stores("demo", demo_root)).raise_for_problems()
