"""DVS-Lip from a copy of its folder tree: convert, prepare, datasets, verify and the DVSLip class by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from eventpipe.datasets import DVSLip
from eventpipe.sources.dvs_lip import CLASSES

WORDS = {"train": ("accused", "young"), "test": ("accused", "action")}


def _write_tree(raw: Path) -> dict[str, list[int]]:
    """Two small ``.npy`` utterances per word folder (fields x, y, p, t as the release stores them)."""
    rng = np.random.default_rng(0)
    labels: dict[str, list[int]] = {}
    for split, words in WORDS.items():
        for word in words:
            folder = raw / "DVS-Lip" / split / word
            folder.mkdir(parents=True)
            for n in range(2):
                k = int(rng.integers(50, 200))
                arr = np.zeros(k, [("x", "<i2"), ("y", "<i2"), ("p", "?"), ("t", "<i8")])
                arr["x"], arr["y"] = rng.integers(0, 128, k), rng.integers(0, 128, k)
                arr["p"], arr["t"] = rng.integers(0, 2, k), np.sort(rng.integers(0, 500_000, k))
                np.save(folder / f"{n}.npy", arr)
                labels.setdefault(split, []).append(CLASSES.index(word))
    return labels


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eventpipe", *args], capture_output=True, text=True, timeout=300)


def test_dvs_lip_converts_prepares_and_reads_by_name(tmp_path: Path) -> None:
    labels = _write_tree(tmp_path / "dvs-lip" / "raw")
    root = str(tmp_path)
    converted = _cli("convert", "dvs-lip", "--root", root, "--workers", "1", "--json")
    assert converted.returncode == 0, converted.stderr
    prepared = _cli("prepare", "dvs-lip", "--root", root, "--workers", "1", "--frames", "4", "--json")
    assert prepared.returncode == 0 and json.loads(prepared.stdout)["status"] == "prepared", prepared.stderr
    listed = _cli("datasets", "--root", root)
    row = next(line for line in listed.stdout.splitlines() if line.startswith("dvs-lip "))
    assert "128x128x2" in row and "100" in row and "converted" in row, listed.stdout
    verified = _cli("verify", "dvs-lip", "--root", root)
    stores = [line.split() for line in verified.stdout.splitlines() if ".zarr" in line]
    assert len(stores) == 2 and all(s[1:3] == ["store", "ok"] for s in stores), verified.stdout + verified.stderr
    for split, expected in labels.items():
        ds = DVSLip(tmp_path, split=split, frames=4)
        assert len(ds) == len(expected) and len(ds.classes) == 100
        got = sorted(int(ds[i][1]) for i in range(len(ds)))
        assert got == sorted(expected)
        x = ds[0][0]
        assert tuple(x.shape) == (4, 2, 128, 128) and int(x.sum()) > 0
