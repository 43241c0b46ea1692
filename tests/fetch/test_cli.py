"""``eventpipe download`` and ``eventpipe verify``: JSON output, exit codes and messages."""

from __future__ import annotations

import hashlib
import io
import json
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eventpipe.cli.main import app

from .conftest import digests, payload, write_manifest
from .faultserver import Corrupt, FaultServer, IgnoreRange, Stall

DATA = payload(50_000, 4)


def _eventpipe(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point (exit codes and stderr as a user sees them)."""
    return subprocess.run([sys.executable, "-m", "eventpipe", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def one_file(server: FaultServer, tmp_path: Path) -> Path:
    server.add("/blob.bin", DATA)
    return write_manifest(tmp_path / "toyset.toml", "toyset",
                          [{"name": "blob.bin", "size": len(DATA), **digests(DATA), "urls": [server.url("/blob.bin")]}])


def test_download_and_verify_json(one_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    root = str(tmp_path / "root")
    result = runner.invoke(app, ["-q", "download", "toyset", "--root", root, "--manifest", str(one_file), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["dataset"] == "toyset" and [f["status"] for f in out["files"]] == ["downloaded"]
    assert Path(out["files"][0]["path"]).read_bytes() == DATA

    result = runner.invoke(app, ["verify", "toyset", "--root", root, "--manifest", str(one_file), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and [c["status"] for c in report["checks"]] == ["ok"]

    result = runner.invoke(app, ["-q", "download", "toyset", "--root", root, "--manifest", str(one_file)])
    assert result.exit_code == 0 and "present" in result.stdout and "raw files in" in result.stdout


def test_wrong_checksum_exits_non_zero_naming_the_file_and_both_hashes(server: FaultServer, one_file: Path,
                                                                       tmp_path: Path) -> None:
    server.resources["/blob.bin"].faults.append(Corrupt())
    root = tmp_path / "root"
    proc = _eventpipe("-q", "download", "toyset", "--root", str(root), "--manifest", str(one_file))
    bad = bytes([DATA[0] ^ 0xFF]) + DATA[1:]
    assert proc.returncode == 2
    assert "blob.bin" in proc.stderr
    assert hashlib.sha256(DATA).hexdigest() in proc.stderr and hashlib.sha256(bad).hexdigest() in proc.stderr
    assert "Traceback" not in proc.stderr
    raw = root / "toyset" / "raw"
    assert not (raw / "blob.bin").exists() and len(list(raw.glob("blob.bin.corrupt-*"))) == 1


def test_verify_of_a_tampered_file_exits_non_zero(one_file: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    assert CliRunner().invoke(app, ["-q", "download", "toyset", "--root", str(root), "--manifest",
                                    str(one_file)]).exit_code == 0
    (root / "toyset/raw/blob.bin").write_bytes(b"x" + DATA[1:])
    proc = _eventpipe("verify", "toyset", "--root", str(root), "--manifest", str(one_file))
    assert proc.returncode == 2
    assert "mismatch" in proc.stdout and "blob.bin" in proc.stderr
    assert hashlib.sha256(DATA).hexdigest() in proc.stderr


def test_manual_download_prints_instructions_and_exits_non_zero(tmp_path: Path) -> None:
    proc = _eventpipe("download", "dvs128", "--root", str(tmp_path))
    assert proc.returncode == 2
    for text in ("DvsGesture.tar.gz", "8a5c71fb11e24e5ca5b11866ca6c00a1", "https://ibm.ent.box.com/",
                 str(tmp_path / "dvs128" / "raw"), "--source"):
        assert text in proc.stderr
    proc = _eventpipe("download", "dvs128", "--root", str(tmp_path), "--json")
    assert proc.returncode == 2
    out = json.loads(proc.stdout)
    assert out["status"] == "manual_download_required" and out["files"][0]["name"] == "DvsGesture.tar.gz"


@pytest.fixture
def manual_file(tmp_path: Path) -> Path:
    return write_manifest(tmp_path / "toyset.toml", "toyset", [
        {"name": "blob.bin", "size": len(DATA), **digests(DATA), "manual": True, "urls": [],
         "pages": ["https://example.org/needs-a-browser"]}])


def test_source_flow_correct_copy_with_link(manual_file: Path, tmp_path: Path) -> None:
    source = tmp_path / "mine"
    source.mkdir()
    (source / "blob.bin").write_bytes(DATA)
    root = tmp_path / "root"
    result = CliRunner().invoke(app, ["-q", "download", "toyset", "--root", str(root), "--manifest", str(manual_file),
                                      "--source", str(source), "--link", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["status"] == "linked"
    assert (root / "toyset/raw/blob.bin").stat().st_ino == (source / "blob.bin").stat().st_ino


def test_source_flow_corrupt_copy_and_missing_file(manual_file: Path, tmp_path: Path) -> None:
    source = tmp_path / "mine"
    source.mkdir()
    (source / "blob.bin").write_bytes(DATA[:-1] + b"?")
    root = tmp_path / "root"
    proc = _eventpipe("-q", "download", "toyset", "--root", str(root), "--manifest", str(manual_file),
                      "--source", str(source))
    assert proc.returncode == 2
    assert str(source / "blob.bin") in proc.stderr and hashlib.sha256(DATA).hexdigest() in proc.stderr
    assert not (root / "toyset/raw/blob.bin").exists()

    (source / "blob.bin").unlink()
    proc = _eventpipe("-q", "download", "toyset", "--root", str(root), "--manifest", str(manual_file),
                      "--source", str(source))
    assert proc.returncode == 2
    assert "blob.bin" in proc.stderr and "not found in" in proc.stderr and "needs-a-browser" in proc.stderr


def test_unknown_dataset_lists_the_valid_names(tmp_path: Path) -> None:
    proc = _eventpipe("download", "nmnst", "--root", str(tmp_path))
    assert proc.returncode == 2 and "'nmnist'" in proc.stderr and "'demo'" in proc.stderr


@pytest.fixture
def two_stalling(server: FaultServer, tmp_path: Path) -> Path:
    """Two files whose server sends a few bytes, then goes silent."""
    files = []
    for name in ("a.bin", "b.bin"):
        server.add(f"/{name}", DATA, faults=[Stall(after=1000, seconds=30)])
        files.append({"name": name, "size": len(DATA), **digests(DATA), "urls": [server.url(f"/{name}")]})
    return write_manifest(tmp_path / "toyset.toml", "toyset", files)


def test_ctrl_c_stops_a_stalled_download_at_once_and_keeps_the_part_files(two_stalling: Path, tmp_path: Path) -> None:
    raw = tmp_path / "root" / "toyset" / "raw"
    proc = subprocess.Popen([sys.executable, "-m", "eventpipe", "-q", "download", "toyset", "--root",
                             str(tmp_path / "root"), "--manifest", str(two_stalling)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        parts = [raw / "a.bin.part", raw / "b.bin.part"]
        give_up = time.monotonic() + 30
        while not all(p.exists() for p in parts) and time.monotonic() < give_up:
            time.sleep(0.05)
        time.sleep(0.5)  # both reads are now blocked on the silent server (their 1000 bytes still buffered)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
        assert time.monotonic() - sent < 2.5
    finally:
        proc.kill()
    assert proc.returncode != 0 and "Traceback" not in stderr
    assert all(p.stat().st_size == 1000 for p in parts) and not list(raw.glob("*.corrupt-*"))


def test_deadline_option_ends_a_stalled_download_in_one_line(two_stalling: Path, tmp_path: Path) -> None:
    start = time.monotonic()
    proc = _eventpipe("-q", "download", "toyset", "--root", str(tmp_path / "root"), "--manifest", str(two_stalling),
                      "--deadline", "1", "--workers", "1")
    assert proc.returncode == 2 and time.monotonic() - start < 15
    lines = [line for line in proc.stderr.splitlines() if "a.bin" in line]
    assert len(lines) == 1 and "/a.bin" in lines[0] and "--deadline" in lines[0]


def test_offline_download_fails_fast_in_one_line_that_suggests_source(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "toyset.toml", "toyset", [
        {"name": name, "size": len(DATA), **digests(DATA), "urls": [f"http://nonexistent.invalid/{name}"]}
        for name in ("a.bin", "b.bin")])
    proc = _eventpipe("-q", "download", "toyset", "--root", str(tmp_path / "root"), "--manifest", str(manifest))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--source DIR" in proc.stderr and "nonexistent.invalid" in proc.stderr


def _zeros_tgz(nbytes: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("zeros.bin")
        info.size = nbytes
        tf.addfile(info, io.BytesIO(bytes(nbytes)))
    return buf.getvalue()


def test_an_archive_bomb_is_refused_unless_its_size_is_declared_or_the_ceiling_raised(server: FaultServer,
                                                                                      tmp_path: Path) -> None:
    bomb = _zeros_tgz(3 << 20)
    server.add("/bomb.tar.gz", bomb)
    entry = {"name": "bomb.tar.gz", "size": len(bomb), **digests(bomb), "urls": [server.url("/bomb.tar.gz")],
             "extract": True}
    manifest = write_manifest(tmp_path / "toyset.toml", "toyset", [entry])
    root = tmp_path / "root"
    proc = _eventpipe("-q", "download", "toyset", "--root", str(root), "--manifest", str(manifest))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "bomb.tar.gz" in proc.stderr and "--max-unpack-ratio" in proc.stderr
    assert not (root / "toyset/raw/zeros.bin").exists()

    args = ["-q", "download", "toyset", "--root", str(root), "--manifest", str(manifest)]
    result = CliRunner().invoke(app, args, env={"EVENTPIPE_MAX_UNPACK_RATIO": "100000"})
    assert result.exit_code == 0, result.output
    assert (root / "toyset/raw/zeros.bin").stat().st_size == 3 << 20

    member = {"path": "zeros.bin", "size": 3 << 20, "md5": hashlib.md5(bytes(3 << 20)).hexdigest()}
    declared = {**entry, "members": [member]}
    manifest = write_manifest(tmp_path / "toyset.toml", "toyset", [declared])
    result = CliRunner().invoke(app, ["-q", "download", "toyset", "--root", str(tmp_path / "root2"), "--manifest",
                                      str(manifest), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["unpacked"] == ["bomb.tar.gz"]


@pytest.mark.parametrize("honours_range", [True, False])
def test_json_reports_what_a_resume_really_kept(server: FaultServer, one_file: Path, tmp_path: Path,
                                                honours_range: bool) -> None:
    """A part file left by an earlier run: ``resumed_from`` is its size only when the server sent the rest."""
    if not honours_range:
        server.resources["/blob.bin"].faults.append(IgnoreRange())
    raw = tmp_path / "root" / "toyset" / "raw"
    raw.mkdir(parents=True)
    (raw / "blob.bin.part").write_bytes(DATA[:20_000])
    result = CliRunner().invoke(app, ["-q", "download", "toyset", "--root", str(tmp_path / "root"),
                                      "--manifest", str(one_file), "--json"])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["files"]
    assert [r.range for r in server.requests] == ["bytes=20000-"]
    expected = (len(DATA) - 20_000, 20_000) if honours_range else (len(DATA), 0)
    assert (entry["received"], entry["resumed_from"]) == expected
    assert (raw / "blob.bin").read_bytes() == DATA
