"""Safe unpacking of zip and tar (.gz, .bz2, .xz) archives.

Every member is checked before anything is written for it. Refused, with :class:`UnsafeArchiveError`:
absolute paths (``/x``, ``C:\\x``), ``..`` components, symbolic links whose target leaves the folder,
hard links to anything but an earlier regular member, paths that run through a symbolic link of the
archive, device files, fifos and sockets, and a name that appears twice (which copy wins would depend
on the tool).

Archive bombs are refused too (see :class:`UnpackLimits`): a member larger than the size its manifest
declares, or members without a declared size that together expand beyond ``max_ratio`` times the
archive's size, or an archive beyond ``max_bytes`` in all. The sizes in the member headers are checked
before a member is written (for zip, before any member is written), and the bytes are counted again
while it is written, since headers can lie.

Everything is written to a temporary folder next to the target and moved into place only when the
whole archive unpacked cleanly, so a refused or broken archive leaves nothing behind. The checks do not
depend on the Python version (``tarfile`` filters only exist in newer releases).
"""

from __future__ import annotations

import errno
import lzma
import os
import posixpath
import re
import secrets
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

from tqdm.auto import tqdm

from eventpipe.errors import ConfigError, FormatError, UnsafeArchiveError
from eventpipe.manifests import ARCHIVE_SUFFIXES, archive_kind
from eventpipe.progress import bar_disabled

_DRIVE = re.compile(r"^[A-Za-z]:")
_COPY_BYTES = 1 << 20
_CORRUPT = (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError)
#: Opens the body of the member just yielded (valid until the next member is read).
Opener = Callable[[], "IO[bytes] | None"]


@dataclass(frozen=True)
class UnpackLimits:
    """How far an archive may expand before it is refused as an archive bomb.

    Parameters
    ----------
    max_ratio
        Bytes that the members without a declared size may unpack to, as a multiple of the archive's
        own size (each nested archive is measured against its own size).
    max_bytes
        Bytes that one archive may unpack to in all, declared members included.
    """

    max_ratio: float = 200.0
    max_bytes: int = 1 << 40

    def __post_init__(self) -> None:
        if not self.max_ratio >= 1:
            raise ConfigError(f"Expected a number >= 1 for max_ratio. Got {self.max_ratio!r} instead.")
        if not isinstance(self.max_bytes, int) or self.max_bytes < 1:
            raise ConfigError(f"Expected an integer >= 1 for max_bytes. Got {self.max_bytes!r} instead.")


@dataclass(frozen=True)
class _Member:
    """An archive member reduced to what extraction needs."""

    name: str  # as stored in the archive (for messages)
    kind: str  # "dir", "file", "symlink", "hardlink", or what is refused: "device", "fifo", "socket", "other"
    link: str = ""  # symlink target (relative to the member's folder) or hard-link target (archive path)
    size: int = 0  # bytes the member's header announces (regular files)


def extract_archive(archive: Path, target: Path, *, nested: bool = False, protected: Collection[str] = (),
                    sizes: Mapping[str, int] | None = None, limits: UnpackLimits | None = None,
                    progress: bool = True) -> list[str]:
    """Unpack ``archive`` into the folder ``target``; returns the top-level names it placed there.

    Parameters
    ----------
    archive
        A ``.zip`` or ``.tar``/``.tar.gz``/``.tgz``/``.tar.bz2``/``.tar.xz`` file.
    target
        Destination folder (created when missing). Top-level entries of the archive replace entries of
        the same name in it; other entries are left alone.
    nested
        Also unpack the archives found inside (one level) where they lie, then delete them.
    protected
        Top-level names in ``target`` that the archive must not replace (the archive itself, other
        downloads, bookkeeping).
    sizes
        Declared sizes in bytes of members, by path relative to ``target`` (the manifest's
        ``[[files.members]]``): such a member may not be larger, whatever ``limits`` allow.
    limits
        Expansion ceilings for the other members (:class:`UnpackLimits`; the defaults when ``None``).

    Raises
    ------
    UnsafeArchiveError
        A member would escape ``target``, is not a plain file, folder or safe link, appears twice, or
        expands beyond its declared size or ``limits``.
    FormatError
        The archive is truncated or corrupt.
    """
    kind = archive_kind(archive.name)
    if kind is None:
        raise ConfigError(f"{archive}: cannot unpack; valid endings are {{{', '.join(sorted(ARCHIVE_SUFFIXES))}}}")
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(f".{archive.name}.*.unpacking"):  # left by an interrupted run
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{archive.name}.", suffix=".unpacking", dir=parent))
    limits = limits or UnpackLimits()
    sizes = dict(sizes or {})
    try:
        _unpack(archive, tmp, _Budget(archive, limits, sizes), progress=progress)
        if nested:
            _unpack_nested(tmp, limits, sizes, progress=progress)
        _check_tree(tmp, archive)
        entries = sorted(p.name for p in tmp.iterdir())
        clashes = sorted(set(entries) & set(protected))
        if clashes:
            raise UnsafeArchiveError(f"{archive}: members would replace {clashes} in {target}")
        move_entries(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return entries


class _Budget:
    """The bytes an archive may still unpack to (see :class:`UnpackLimits`)."""

    def __init__(self, archive: Path, limits: UnpackLimits, sizes: Mapping[str, int], prefix: str = "") -> None:
        self.archive = archive
        self.limits = limits
        self.sizes = sizes  # declared sizes by path relative to the extraction folder
        self.prefix = prefix  # where this archive's members land, relative to that folder
        self.undeclared_left = int(limits.max_ratio * archive.stat().st_size)
        self.total_left = limits.max_bytes

    def allowance(self, rel: str) -> tuple[int, str]:
        """The most bytes the member at ``rel`` may have, and what to say when it has more."""
        declared = self.sizes.get(self.prefix + rel)
        if declared is not None and declared <= self.total_left:
            return declared, f"the manifest declares {declared} bytes for it"
        if declared is not None or self.total_left <= self.undeclared_left:
            return self.total_left, (f"the archive would unpack to more than {self.limits.max_bytes} bytes in all; "
                                     "raise --max-unpack-size (EVENTPIPE_MAX_UNPACK_SIZE) if it is trusted")
        return self.undeclared_left, (
            f"the archive would expand more than {self.limits.max_ratio:g} times its size "
            f"({self.archive.stat().st_size} bytes); raise --max-unpack-ratio (EVENTPIPE_MAX_UNPACK_RATIO) "
            "if it is trusted")

    def spend(self, rel: str, nbytes: int) -> None:
        self.total_left -= nbytes
        if self.prefix + rel not in self.sizes:
            self.undeclared_left -= nbytes


def _unpack(archive: Path, dest: Path, budget: _Budget, *, progress: bool) -> None:
    """Check and write every member of ``archive`` under the existing folder ``dest``."""
    checker = _Checker(archive)
    with tqdm(desc=f"unpack {archive.name}", unit=" files", disable=bar_disabled(progress), leave=False) as bar:
        try:
            if archive_kind(archive.name) == "zip":
                members = _zip_members(archive, _Budget(archive, budget.limits, budget.sizes, budget.prefix))
            else:
                members = _tar_members(archive)
            for member, opener in members:
                _write(checker, budget, dest, member, opener)
                bar.update(1)
        except _CORRUPT as exc:
            raise FormatError(f"{archive}: corrupt or truncated archive: {exc}") from exc
        except (NotADirectoryError, FileExistsError, IsADirectoryError) as exc:
            raise FormatError(f"{archive}: members conflict (a file where a folder should be): {exc}") from exc


def _zip_members(archive: Path, budget: _Budget) -> Iterator[tuple[_Member, Opener]]:
    with zipfile.ZipFile(archive) as zf:
        members = [(_zip_member(zf, info), info) for info in zf.infolist()]
        precheck = _Checker(archive)  # the central directory lists every member: refuse before writing any
        for member, _info in members:
            precheck.spend(budget, precheck.check(member), member)
        for member, info in members:
            yield member, partial(zf.open, info)


def _zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Member:
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(mode):  # made on Unix: the mode tells the file type
        if stat.S_ISLNK(mode):
            return _Member(info.filename, "symlink", zf.read(info).decode("utf-8", "surrogateescape"))
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            return _Member(info.filename, "device")
        if stat.S_ISFIFO(mode):
            return _Member(info.filename, "fifo")
        if stat.S_ISSOCK(mode):
            return _Member(info.filename, "socket")
    if info.is_dir():
        return _Member(info.filename, "dir")
    return _Member(info.filename, "file", size=info.file_size)


def _tar_members(archive: Path) -> Iterator[tuple[_Member, Opener]]:
    # Stream mode reads the (compressed) archive once; each member is checked before it is written.
    with tarfile.open(archive, mode="r|*") as tf:
        for info in tf:
            yield _tar_member(info), partial(tf.extractfile, info)


def _tar_member(info: tarfile.TarInfo) -> _Member:
    if info.isdir():
        return _Member(info.name, "dir")
    if info.isreg():
        return _Member(info.name, "file", size=info.size)
    if info.issym():
        return _Member(info.name, "symlink", info.linkname)
    if info.islnk():
        return _Member(info.name, "hardlink", info.linkname)
    if info.ischr() or info.isblk():
        return _Member(info.name, "device")
    if info.isfifo():
        return _Member(info.name, "fifo")
    return _Member(info.name, "other")


class _Checker:
    """Checks each member against the rules and against the members seen before it."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.symlinks: set[str] = set()
        self.files: set[str] = set()
        self.names: dict[str, str] = {}  # every path seen so far -> its kind

    def refuse(self, member: _Member, why: str) -> UnsafeArchiveError:
        return UnsafeArchiveError(f"{self.archive}: refusing member {member.name!r}: {why}")

    def check(self, member: _Member) -> str:
        """The member's safe relative path (``""`` for the archive root); raises when it is unsafe."""
        if member.kind in ("device", "fifo", "socket", "other"):
            what = {"device": "a device file", "fifo": "a fifo", "socket": "a socket"}.get(member.kind, "not a file")
            raise self.refuse(member, f"{what}, not a regular file, folder or link")
        rel = _safe_relpath(member.name)
        if rel is None:
            raise self.refuse(member, "absolute path or '..' component escapes the target folder")
        if rel and rel in self.names and not (member.kind == "dir" and self.names[rel] == "dir"):
            raise self.refuse(member, "the name appears twice in the archive (which copy is meant is unclear)")
        if rel:
            self.names[rel] = member.kind
        parts = rel.split("/") if rel else []
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if prefix in self.symlinks:
                raise self.refuse(member, f"path runs through the symbolic link {prefix!r} of the archive")
        if member.kind == "symlink":
            if not rel or not _link_inside(rel, member.link):
                raise self.refuse(member, f"symbolic link to {member.link!r} points outside the target folder")
            self.symlinks.add(rel)
        elif member.kind == "hardlink":
            link = _safe_relpath(member.link)
            if not rel or link is None or link not in self.files:
                raise self.refuse(member, f"hard link to {member.link!r} is not an earlier file of the archive")
        if member.kind in ("file", "hardlink"):
            if not rel:
                raise self.refuse(member, "a file cannot replace the target folder")
            self.files.add(rel)
        return rel

    def spend(self, budget: _Budget, rel: str, member: _Member) -> None:
        """Take the size ``member``'s header announces out of ``budget``; raises when it does not fit."""
        if member.kind != "file":
            return
        allowed, why = budget.allowance(rel)
        if member.size > allowed:
            raise self.refuse(member, f"it unpacks to {member.size} bytes, but {why}")
        budget.spend(rel, member.size)


def _write(checker: _Checker, budget: _Budget, dest: Path, member: _Member, opener: Opener) -> None:
    """Check ``member`` and create it under ``dest``."""
    rel = checker.check(member)
    path = dest / rel if rel else dest
    if member.kind == "dir":
        path.mkdir(parents=True, exist_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.is_dir():
        raise checker.refuse(member, "would replace a link or folder written earlier")
    if member.kind == "symlink":
        path.unlink(missing_ok=True)
        os.symlink(member.link, path)
    elif member.kind == "hardlink":
        path.unlink(missing_ok=True)
        source = dest / (_safe_relpath(member.link) or "")
        try:
            os.link(source, path)
        except OSError:  # a file system without hard links
            shutil.copyfile(source, path)
    else:
        allowed, why = budget.allowance(rel)
        if member.size > allowed:
            raise checker.refuse(member, f"it unpacks to {member.size} bytes, but {why}")
        body = opener()
        if body is None:
            raise checker.refuse(member, "no data for a regular file")
        written = 0
        with body as src, open(path, "wb") as dst:
            while chunk := src.read(_COPY_BYTES):
                written += len(chunk)
                if written > allowed:  # the header understated the size
                    raise checker.refuse(member, f"it unpacks to more than {allowed} bytes, but {why}")
                dst.write(chunk)
        budget.spend(rel, written)


def _safe_relpath(name: str) -> str | None:
    """Normalised POSIX relative path, ``""`` for the root, ``None`` when absolute or using ``..``."""
    raw = name.replace("\\", "/")
    if "\x00" in raw or raw.startswith("/") or _DRIVE.match(raw):
        return None
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


def _link_inside(rel: str, link: str) -> bool:
    """Whether a symbolic link at ``rel`` with target ``link`` stays inside the folder (lexically)."""
    link = link.replace("\\", "/")
    if not link or "\x00" in link or link.startswith("/") or _DRIVE.match(link):
        return False
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), link))
    return resolved != ".." and not resolved.startswith("../")


def _check_tree(root: Path, archive: Path) -> None:
    """Second line of defence: every link under ``root`` must resolve inside it."""
    top = os.path.realpath(root)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                real = os.path.realpath(path)
                if real != top and not real.startswith(top + os.sep):
                    raise UnsafeArchiveError(f"{archive}: link {os.path.relpath(path, root)!r} resolves outside")


def _unpack_nested(root: Path, limits: UnpackLimits, sizes: Mapping[str, int], *, progress: bool) -> None:
    """Unpack every archive found under ``root`` (one level) into its folder, then delete it."""
    inner = []
    for folder, _dirs, files in os.walk(root):
        inner += [Path(folder) / f for f in sorted(files) if archive_kind(f) and not Path(folder, f).is_symlink()]
    for archive in inner:
        tmp = Path(tempfile.mkdtemp(prefix=f".{archive.name}.", suffix=".unpacking", dir=archive.parent))
        folder = archive.parent.relative_to(root).as_posix()
        budget = _Budget(archive, limits, sizes, "" if folder == "." else folder + "/")
        try:
            _unpack(archive, tmp, budget, progress=progress)
            archive.unlink()
            move_entries(tmp, archive.parent)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def move_entries(src: Path, dest: Path) -> None:
    """Move every entry of ``src`` into ``dest`` (renames on one file system), replacing same names.

    ``dest`` is created with default permissions (renaming ``src`` itself would keep the private mode
    of a temporary folder). An entry that cannot be renamed into ``dest`` because ``dest`` is on another
    file system (``raw`` a link to another disk) is copied there under a temporary name first, so that an
    interrupted copy never stands under the final name and the entry it replaces stays until the copy is
    complete; the next call removes such a leftover.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for stale in dest.glob(f".*{_MOVING}"):  # left by an interrupted copy
        _remove(stale)
    for entry in sorted(src.iterdir()):
        target = dest / entry.name
        moving = dest / f".{entry.name}.{secrets.token_hex(4)}{_MOVING}"
        try:
            os.rename(entry, moving)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            _copy_across(entry, moving)
        _remove(target)
        os.replace(moving, target)
        if entry.exists() or entry.is_symlink():  # copied, not renamed
            _remove(entry)


_MOVING = ".moving"


def _copy_across(entry: Path, moving: Path) -> None:
    """Copy ``entry`` (file, folder or link, links kept as links) to ``moving``; nothing is left of a failed copy."""
    try:
        if entry.is_symlink():
            os.symlink(os.readlink(entry), moving)
        elif entry.is_dir():
            shutil.copytree(entry, moving, symlinks=True)
        else:
            shutil.copy2(entry, moving)
    except BaseException:
        _remove(moving)
        raise


def _remove(path: Path) -> None:
    """Delete ``path`` (a folder with its contents; a link, not what it points to); nothing when absent."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
