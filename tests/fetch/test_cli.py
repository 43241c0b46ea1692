"""``eventpipe download`` and ``eventpipe verify``: JSON output, exit codes and messages."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eventpipe.cli.main import app

from .conftest import digests, payload, write_manifest
from .faultserver import Corrupt, FaultServer

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
