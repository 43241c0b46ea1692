"""Safe unpacking: good archives unpack completely; hostile ones are refused and write nothing."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from eventpipe.errors import ConfigError, FormatError, UnsafeArchiveError
from eventpipe.fetch import UnpackLimits, extract_archive

Listing = Callable[[Path], set[str]]


def _tar(path: Path, members: list[tuple[str, str, bytes | str]], mode: str = "w:gz") -> Path:
    """members: (name, kind, data-or-linkname) with kind in file/dir/symlink/hardlink/chr/fifo."""
    types = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
             "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE}
    with tarfile.open(path, mode) as tf:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                assert isinstance(payload, bytes)
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
                continue
            info.type = types[kind]
            if kind in ("symlink", "hardlink"):
                info.linkname = str(payload)
            tf.addfile(info)
    return path


def _zip(path: Path, members: list[tuple[str, str, bytes | str]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, kind, payload in members:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            mode = {"file": stat.S_IFREG | 0o644, "symlink": stat.S_IFLNK | 0o777,
                    "chr": stat.S_IFCHR | 0o644, "fifo": stat.S_IFIFO | 0o644, "dir": stat.S_IFDIR | 0o755}[kind]
            info.external_attr = mode << 16
            data = payload.encode() if isinstance(payload, str) else payload
            zf.writestr(info, data)
    return path


@pytest.fixture
def box(tmp_path: Path) -> tuple[Path, Path]:
    """(folder holding the archive and the target, target) with an 'outside' sentinel folder next to them."""
    work = tmp_path / "work"
    (work / "outside").mkdir(parents=True)
    (work / "raw").mkdir()
    return work, work / "raw" / "dataset"


@pytest.mark.parametrize("mode,suffix", [("w:gz", ".tar.gz"), ("w:bz2", ".tar.bz2"), ("w:xz", ".tar.xz"),
                                         ("w", ".tar")])
def test_tar_unpacks_files_folders_and_inner_links(box: tuple[Path, Path], mode: str, suffix: str) -> None:
    work, target = box
    archive = _tar(work / f"a{suffix}", [
        ("top", "dir", b""),
        ("top/sub/a.bin", "file", b"alpha"),
        ("top/b.txt", "file", b"beta"),
        ("top/link_to_a", "symlink", "sub/a.bin"),
        ("top/hard_b", "hardlink", "top/b.txt"),
    ], mode)
    entries = extract_archive(archive, target, progress=False)
    assert entries == ["top"]
    assert (target / "top/sub/a.bin").read_bytes() == b"alpha"
    assert (target / "top/link_to_a").is_symlink() and (target / "top/link_to_a").read_bytes() == b"alpha"
    assert (target / "top/hard_b").read_bytes() == b"beta"
    assert sorted(p.name for p in target.parent.iterdir()) == ["dataset"]  # no temporary folder left


def test_zip_unpacks_into_an_existing_folder_replacing_same_names(box: tuple[Path, Path]) -> None:
    work, target = box
    (target / "keep").mkdir(parents=True)
    (target / "Train").mkdir()
    (target / "Train" / "stale.bin").write_bytes(b"old")
    archive = _zip(work / "Train.zip", [("Train/0/00001.bin", "file", b"x" * 10), ("Train/1/", "dir", b"")])
    assert extract_archive(archive, target, progress=False) == ["Train"]
    assert (target / "Train/0/00001.bin").read_bytes() == b"x" * 10 and (target / "Train/1").is_dir()
    assert not (target / "Train/stale.bin").exists() and (target / "keep").is_dir()


HOSTILE_TAR = {
    "zip-slip": [("../evil.txt", "file", b"pwned")],
    "deep-slip": [("a/b/../../../evil.txt", "file", b"pwned")],
    "absolute": [("/ABSOLUTE/evil.txt", "file", b"pwned")],
    "symlink-escape": [("link", "symlink", "../outside"), ("link/evil.txt", "file", b"pwned")],
    "absolute-symlink": [("link", "symlink", "/etc")],
    "through-inner-link": [("sub", "dir", b""), ("hop", "symlink", "sub"), ("hop/evil.txt", "file", b"x")],
    "hardlink-escape": [("hard", "hardlink", "../outside/secret")],
    "hardlink-unknown": [("hard", "hardlink", "not/in/archive")],
    "char-device": [("ok.txt", "file", b"fine"), ("dev/null", "chr", b"")],
    "block-device": [("sda", "blk", b"")],
    "fifo": [("pipe", "fifo", b"")],
}


@pytest.mark.parametrize("case", sorted(HOSTILE_TAR))
def test_hostile_tar_is_refused_and_writes_nothing(box: tuple[Path, Path], listing: Listing, case: str) -> None:
    work, target = box
    archive = _tar(work / "hostile.tar.gz", HOSTILE_TAR[case])
    before = listing(work)
    with pytest.raises(UnsafeArchiveError, match="refusing member") as err:
        extract_archive(archive, target, progress=False)
    assert "hostile.tar.gz" in str(err.value)
    assert listing(work) == before  # nothing in the target, next to it, or outside
    assert not Path("/ABSOLUTE").exists()


HOSTILE_ZIP = {
    "zip-slip": [("ok.txt", "file", b"fine"), ("../evil.txt", "file", b"pwned")],
    "absolute": [("/ABSOLUTE/evil.txt", "file", b"pwned")],
    "windows-absolute": [("C:\\evil.txt", "file", b"pwned")],
    "backslash-slip": [("a\\..\\..\\evil.txt", "file", b"pwned")],
    "symlink-escape": [("link", "symlink", "../../outside")],
    "symlink-then-write": [("link", "symlink", "."), ("link/x.txt", "file", b"x")],
    "char-device": [("dev", "chr", b"")],
    "fifo": [("pipe", "fifo", b"")],
}


@pytest.mark.parametrize("case", sorted(HOSTILE_ZIP))
def test_hostile_zip_is_refused_before_anything_is_written(box: tuple[Path, Path], listing: Listing,
                                                           case: str) -> None:
    work, target = box
    archive = _zip(work / "hostile.zip", HOSTILE_ZIP[case])
    before = listing(work)
    with pytest.raises(UnsafeArchiveError, match="refusing member"):
        extract_archive(archive, target, progress=False)
    assert listing(work) == before


def test_messages_say_what_is_wrong(box: tuple[Path, Path]) -> None:
    work, target = box
    cases = {
        "'..'": [("../evil.txt", "file", b"")],
        "points outside": [("link", "symlink", "../x")],
        "device file": [("dev", "chr", b"")],
        "fifo": [("pipe", "fifo", b"")],
        "symbolic link 'hop'": [("sub", "dir", b""), ("hop", "symlink", "sub"), ("hop/x", "file", b"")],
    }
    for expected, members in cases.items():
        with pytest.raises(UnsafeArchiveError, match=expected):
            extract_archive(_tar(work / "h.tar", members, "w"), target, progress=False)


def test_nested_archives_are_unpacked_in_place(box: tuple[Path, Path]) -> None:
    work, target = box
    inner = _zip(work / "inner.zip", [("Yin/a/x.mat", "file", b"m")])
    outer = _zip(work / "outer.zip", [("data/Yin.zip", "file", inner.read_bytes()), ("data/readme", "file", b"r")])
    assert extract_archive(outer, target, nested=True, progress=False) == ["data"]
    assert (target / "data/Yin/a/x.mat").read_bytes() == b"m"
    assert not (target / "data/Yin.zip").exists() and (target / "data/readme").exists()


def test_hostile_nested_archive_is_refused(box: tuple[Path, Path], listing: Listing) -> None:
    work, target = box
    inner = _zip(work / "inner.zip", [("../../../evil.txt", "file", b"x")])
    outer = _zip(work / "outer.zip", [("data/inner.zip", "file", inner.read_bytes())])
    before = listing(work)
    with pytest.raises(UnsafeArchiveError):
        extract_archive(outer, target, nested=True, progress=False)
    assert listing(work) == before


def test_protected_names_are_not_replaced(box: tuple[Path, Path]) -> None:
    work, target = box
    target.mkdir(parents=True)
    (target / "Train.zip").write_bytes(b"the download")
    archive = _zip(target / "Train.zip.evil.zip", [("Train.zip", "file", b"replacement")])
    with pytest.raises(UnsafeArchiveError, match="would replace"):
        extract_archive(archive, target, protected={"Train.zip"}, progress=False)
    assert (target / "Train.zip").read_bytes() == b"the download"


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_corrupt_archive_is_a_format_error_and_leaves_nothing(box: tuple[Path, Path], listing: Listing,
                                                              suffix: str) -> None:
    work, target = box
    good = (_zip if suffix == ".zip" else _tar)(work / f"good{suffix}", [("big.bin", "file", bytes(range(256)) * 4000)])
    data = bytearray(good.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\xff" * 64
    bad = work / f"bad{suffix}"
    bad.write_bytes(bytes(data))
    before = listing(work)
    with pytest.raises(FormatError, match="corrupt"):
        extract_archive(bad, target, limits=UnpackLimits(max_ratio=1000), progress=False)
    assert listing(work) == before


ZEROS = bytes(4 << 20)  # compresses about a thousandfold


def _bomb(work: Path, suffix: str) -> Path:
    """A small archive of 4 MiB of zeros (deflated in both formats)."""
    path = work / f"bomb{suffix}"
    if suffix == ".zip":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("data/zeros.bin", ZEROS)
        return path
    return _tar(path, [("data", "dir", b""), ("data/zeros.bin", "file", ZEROS)])


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_an_archive_bomb_is_refused_before_it_is_written(box: tuple[Path, Path], listing: Listing,
                                                         suffix: str) -> None:
    work, target = box
    bomb = _bomb(work, suffix)
    assert bomb.stat().st_size * 200 < len(ZEROS)
    before = listing(work)
    with pytest.raises(UnsafeArchiveError, match=r"'data/zeros.bin'.*200 times.*--max-unpack-ratio") as err:
        extract_archive(bomb, target, progress=False)
    assert "\n" not in str(err.value) and str(bomb) in str(err.value)
    with pytest.raises(UnsafeArchiveError, match="more than 1000000 bytes in all.*--max-unpack-size"):
        extract_archive(bomb, target, limits=UnpackLimits(max_ratio=10_000, max_bytes=1_000_000), progress=False)
    with pytest.raises(UnsafeArchiveError, match="the manifest declares 1000 bytes"):
        extract_archive(bomb, target, sizes={"data/zeros.bin": 1000}, progress=False)
    assert listing(work) == before


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_a_trusted_or_declared_large_expansion_unpacks(box: tuple[Path, Path], suffix: str) -> None:
    work, target = box
    bomb = _bomb(work, suffix)
    assert extract_archive(bomb, target, limits=UnpackLimits(max_ratio=10_000), progress=False) == ["data"]
    assert (target / "data/zeros.bin").stat().st_size == len(ZEROS)
    assert extract_archive(bomb, target, sizes={"data/zeros.bin": len(ZEROS)}, progress=False) == ["data"]


def test_a_zip_that_understates_a_member_size_is_not_unpacked_past_it(box: tuple[Path, Path],
                                                                      listing: Listing) -> None:
    work, target = box
    bomb = _bomb(work, ".zip")
    data = bytearray(bomb.read_bytes())
    true_size = len(ZEROS).to_bytes(4, "little")
    assert data.count(true_size) == 2  # the local header and the central directory entry
    bomb.write_bytes(bytes(data).replace(true_size, (1000).to_bytes(4, "little")))
    before = listing(work)
    with pytest.raises((UnsafeArchiveError, FormatError)):
        extract_archive(bomb, target, sizes={"data/zeros.bin": 1000}, progress=False)
    assert listing(work) == before


@pytest.mark.parametrize("suffix", [".zip", ".tar"])
def test_a_name_that_appears_twice_is_refused(box: tuple[Path, Path], listing: Listing, suffix: str) -> None:
    work, target = box
    members: list[tuple[str, str, bytes | str]] = [("Train/a.txt", "file", b"first"), ("Train/b.txt", "file", b"b"),
                                                    ("Train/./a.txt", "file", b"second")]
    archive = _zip(work / "dup.zip", members) if suffix == ".zip" else _tar(work / "dup.tar", members, "w")
    before = listing(work)
    with pytest.raises(UnsafeArchiveError, match="'Train/./a.txt'.*appears twice"):
        extract_archive(archive, target, progress=False)
    assert listing(work) == before


def test_unpack_limits_are_validated() -> None:
    with pytest.raises(ConfigError, match="max_ratio"):
        UnpackLimits(max_ratio=0.5)
    with pytest.raises(ConfigError, match="max_bytes"):
        UnpackLimits(max_bytes=0)
