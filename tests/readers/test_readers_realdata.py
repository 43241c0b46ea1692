"""Every real sample recording parses to exactly the counts and ranges listed in realdata/README.md."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from eventpipe.readers import detect_format, read_events

# file, format (None = detect), n, t range (µs), x range, y range (inclusive)
CASES = [
    ("nmnist/sample_nmnist.bin", None, 4325, (654, 311175), (0, 33), (0, 33)),
    ("nmnist/slayerPytorch_NMNISTsmall/1.bs2", "atis", 4681, (893, 305924), (0, 33), (0, 33)),
    ("nmnist/slayerPytorch_NMNISTsmall/2.bs2", "atis", 5028, (937, 305341), (0, 33), (0, 33)),
    ("nmnist/slayerPytorch_NMNISTsmall/60001.bs2", "atis", 3330, (5087, 307827), (0, 33), (0, 33)),
    ("nmnist/slayerPytorch_NMNISTsmall/60002.bs2", "atis", 4840, (3240, 308353), (0, 33), (0, 32)),
    ("ncars/sample_ncars.dat", None, 2009, (0, 99952), (0, 77), (0, 41)),
    ("ncars/NCARS_obj_004397_td.dat", None, 4407, (0, 99937), (0, 53), (1, 60)),
    ("prophesee_evt2/evt2_sample.raw", None, 539481, (1317888, 1367888), (60, 599), (18, 475)),
    ("prophesee_evt2/evt2_test_sparklers.raw", None, 521252, (913716224, 913812095), (0, 639),
     (0, 479)),
    ("prophesee_evt3/evt3_sample.raw", None, 219596, (11718656, 11727457), (0, 1279), (0, 719)),
    ("prophesee_evt3/evt3_test_pedestrians.raw", None, 5000, (5840504, 5885714), (11, 1279),
     (22, 698)),
    ("aedat4/sample.aedat4", None, 111954, (1605537493718345, 1605537494308262), (0, 319),
     (0, 239)),
    ("aedat4/aestream_davis.aedat4", None, 117667, (1633953690975950, 1633953691105949),
     (0, 345), (0, 259)),
    ("stmnist/sample_stmnist.mat", None, 2346, (196630, 895740), None, None),
]


def check_bytes(realdata: Path, rel: str) -> None:
    """The file holds the bytes the README's stats were read from (realdata/SHA256SUMS)."""
    sums = dict(reversed(line.split(maxsplit=1)) for line in (realdata / "SHA256SUMS").read_text().splitlines())
    expected = sums.get(rel) or sums[f"./{rel}"]
    assert hashlib.sha256((realdata / rel).read_bytes()).hexdigest() == expected


@pytest.mark.parametrize("rel, fmt, n, t_range, x_range, y_range", CASES, ids=[c[0] for c in CASES])
def test_real_file_stats(realdata: Path, rel: str, fmt: str | None, n: int,
                         t_range: tuple[int, int], x_range: tuple[int, int] | None,
                         y_range: tuple[int, int] | None) -> None:
    path = realdata / rel
    if rel.endswith(".aedat4"):
        pytest.importorskip("aedat")
    check_bytes(realdata, rel)
    ev = read_events(path, format=fmt)
    assert len(ev) == n
    t = ev["t"]
    assert bool(np.all(t[1:] >= t[:-1]))
    if rel.endswith(".mat"):  # README gives seconds to 5 decimals
        assert abs(int(t[0]) - t_range[0]) <= 5 and abs(int(t[-1]) - t_range[1]) <= 5
    else:
        assert (int(t[0]), int(t[-1])) == t_range
    if x_range is not None:
        assert (int(ev["x"].min()), int(ev["x"].max())) == x_range
        assert (int(ev["y"].min()), int(ev["y"].max())) == y_range
    assert set(np.unique(ev["p"]).tolist()) == {0, 1}


def test_detected_formats(realdata: Path) -> None:
    expect = {
        "nmnist/sample_nmnist.bin": "atis", "nmnist/slayerPytorch_NMNISTsmall/1.bs2": "atis",
        "ncars/sample_ncars.dat": "dat", "prophesee_evt2/evt2_sample.raw": "evt2",
        "prophesee_evt3/evt3_sample.raw": "evt3", "aedat4/sample.aedat4": "aedat4",
        "aedat2_header/sample_aedat_header.aedat": "aedat2", "stmnist/sample_stmnist.mat": "mat",
    }
    assert {rel: detect_format(realdata / rel) for rel in expect} == expect


def test_aedat2_header_only_file_is_zero_events(realdata: Path) -> None:
    path = realdata / "aedat2_header/sample_aedat_header.aedat"
    check_bytes(realdata, "aedat2_header/sample_aedat_header.aedat")
    assert len(read_events(path)) == 0


@pytest.mark.parametrize("name, max_step", [("evt3_sample", 1), ("evt3_test_pedestrians", 86)])
def test_evt3_spec_timestamps_vs_expelliarmus_reference(realdata: Path, name: str, max_step: int) -> None:
    ev = read_events(realdata / "prophesee_evt3" / f"{name}.raw")
    ref = np.load(realdata / "prophesee_evt3" / f"{name}.expelliarmus_reference.npy")
    for k in "xyp":
        np.testing.assert_array_equal(ev[k], ref[k])
    # the reference adds 4096 µs at each TIME_LOW wrap; the 12 low bits agree, and ours never jump
    np.testing.assert_array_equal(ev["t"] & 0xFFF, ref["t"] & 0xFFF)
    assert int(np.diff(ev["t"]).max()) == max_step
    assert int(np.diff(ref["t"]).max()) >= 4096


def test_dat_equals_reference(realdata: Path) -> None:
    ev = read_events(realdata / "ncars/NCARS_obj_004397_td.dat")
    ref = np.load(realdata / "ncars/NCARS_obj_004397_td.expelliarmus_reference.npy")
    for k in "txyp":
        np.testing.assert_array_equal(ev[k].astype(np.int64), ref[k].astype(np.int64))


def test_nmnist_matches_tonic(realdata: Path) -> None:
    tonic_io = pytest.importorskip("tonic.io")
    path = realdata / "nmnist/slayerPytorch_NMNISTsmall/60002.bs2"
    ref = tonic_io.read_mnist_file(str(path), dtype=np.dtype([("x", int), ("y", int), ("t", int), ("p", int)]))
    ev = read_events(path, format="atis")
    for k in "txyp":
        np.testing.assert_array_equal(ev[k], ref[k])


def test_stmnist_polarity_and_taxels(realdata: Path) -> None:
    ev = read_events(realdata / "stmnist/sample_stmnist.mat")
    assert int(ev["p"].sum()) == 1601 and int((ev["p"] == 0).sum()) == 745
    taxel = ev["y"].astype(int) * 10 + ev["x"]
    assert (int(taxel.min()), int(taxel.max()), len(np.unique(taxel))) == (35, 87, 31)
