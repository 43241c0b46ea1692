"""Dataset manifests: which files make up a dataset, where they come from, and how to check them.

One TOML file per dataset lives in the top-level ``data_manifests/`` folder and ships inside the wheel.
It is the one place that states a dataset's name, aliases, title, license, citation and homepage; the
dataset definitions in :mod:`eventpipe.sources` read them from here.
Schema version 1 (every key is checked on load; unknown keys are errors, so a typo never goes unnoticed):

Top level
    ``schema`` (1), ``name``, ``title``, ``homepage``, ``license``, ``citation`` (strings, required;
    ``homepage`` may be empty for generated datasets), ``aliases`` (list of names), ``notes`` (string),
    then either ``generator = "eventpipe.module:function"`` (raw files made locally by
    ``function(raw_dir, progress=...)``) or one ``[[files]]`` table per file.
``[[files]]``
    ``name`` (plain file name, stored as ``<root>/<dataset>/raw/<name>``), ``size`` (bytes, if published),
    ``md5`` and/or ``sha256`` (as published; at least one), ``urls`` (direct download URLs, tried in
    order: every mirror is first-class), ``pages`` (web pages where a browser can fetch it),
    ``manual`` (the hosts need a browser: never fetched automatically), ``extract`` (unpack it; default:
    true for ``.zip``/``.tar[.gz|.bz2|.xz]`` names), ``extract_to`` (folder under ``raw/``, default
    ``"."``), ``nested`` (also unpack archives found inside), ``provides`` (paths under ``raw/`` that
    unpacking creates), ``note`` (free text, e.g. an approximate size).
``[[files.members]]``
    ``path`` (relative to ``extract_to``), ``md5``/``sha256``, ``size``: checksums of unpacked files, so
    that ``eventpipe verify`` can check them after the archive is deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from eventpipe.config import Table, load_toml
from eventpipe.errors import ConfigError, UnknownNameError
from eventpipe.paths import packaged_names, packaged_path

SCHEMA_VERSION = 1
#: Checksum algorithms a manifest may publish, with the number of hexadecimal digits of each.
HEX_DIGITS = {"md5": 32, "sha256": 64}
#: File-name endings that are unpacked by default, and the archive family of each.
ARCHIVE_SUFFIXES = {
    ".zip": "zip",
    ".tar": "tar",
    ".tar.gz": "tar",
    ".tgz": "tar",
    ".tar.bz2": "tar",
    ".tbz2": "tar",
    ".tar.xz": "tar",
    ".txz": "tar",
}

_TOP_KEYS = {"schema", "name", "aliases", "title", "homepage", "license", "citation", "notes", "generator", "files"}
_FILE_KEYS = {
    "name", "size", "md5", "sha256", "urls", "pages", "manual", "extract", "extract_to", "nested", "provides",
    "note", "members",
}
_MEMBER_KEYS = {"path", "size", "md5", "sha256"}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_GENERATOR_RE = re.compile(r"^eventpipe(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


def archive_kind(filename: str) -> str | None:
    """``"zip"`` or ``"tar"`` when ``filename`` ends like an archive eventpipe can unpack, else ``None``."""
    lower = filename.lower()
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return ARCHIVE_SUFFIXES[suffix]
    return None


@dataclass(frozen=True)
class Member:
    """A file inside an archive whose checksum is known (``path`` is relative to the folder unpacked into)."""

    path: str
    checksums: Mapping[str, str]
    size: int | None = None


@dataclass(frozen=True)
class FileEntry:
    """One file of a dataset as its manifest describes it (see the module docstring for each field)."""

    name: str
    checksums: Mapping[str, str]
    urls: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    size: int | None = None
    manual: bool = False
    extract: bool = False
    extract_to: str = "."
    nested: bool = False
    provides: tuple[str, ...] = ()
    members: tuple[Member, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (for ``--json`` output and instructions)."""
        return {
            "name": self.name,
            "size": self.size,
            "checksums": dict(self.checksums),
            "urls": list(self.urls),
            "pages": list(self.pages),
            "manual": self.manual,
            "extract": self.extract,
            "extract_to": self.extract_to,
            "provides": list(self.provides),
            "note": self.note,
        }


@dataclass(frozen=True)
class Manifest:
    """A validated dataset manifest. ``source`` names the TOML file it was read from."""

    name: str
    title: str
    homepage: str
    license: str
    citation: str
    source: str
    aliases: tuple[str, ...] = ()
    notes: str = ""
    generator: str | None = None
    files: tuple[FileEntry, ...] = field(default_factory=tuple)

    @property
    def manual(self) -> bool:
        """True when at least one file needs a manual (browser) download."""
        return any(f.manual for f in self.files)

    def file(self, name: str) -> FileEntry:
        """The entry of the file called ``name``."""
        for entry in self.files:
            if entry.name == name:
                return entry
        valid = ", ".join(repr(f.name) for f in self.files)
        raise UnknownNameError(f"Unknown value {name!r} for argument name. Valid values are {{{valid}}}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "name": self.name,
            "title": self.title,
            "homepage": self.homepage,
            "license": self.license,
            "citation": self.citation,
            "aliases": list(self.aliases),
            "notes": self.notes,
            "generator": self.generator,
            "files": [f.to_dict() for f in self.files],
            "source": self.source,
        }


# ------------------------------------------------------------------------------------------------- loading


def manifest_names() -> tuple[str, ...]:
    """Names of the datasets that have a packaged manifest."""
    return packaged_names("manifest")


def load_manifest(name_or_path: str | Path) -> Manifest:
    """Load and validate a manifest: a packaged manifest's name (or one of its aliases), or a TOML file.

    Raises
    ------
    UnknownNameError
        No packaged manifest has that name or alias (the message lists the valid names).
    ConfigError
        The file is not valid TOML or breaks the schema (the message names the file and the key).
    """
    path = Path(name_or_path)
    if isinstance(name_or_path, Path) or path.suffix == ".toml" or len(path.parts) > 1:
        if not path.is_file():
            raise ConfigError(f"manifest file {str(path)!r} does not exist")
        return _read(path, packaged=False)
    wanted = str(name_or_path).strip().lower()
    names = manifest_names()
    if wanted in names:
        return _read(packaged_path("manifest", wanted), packaged=True)
    for candidate in names:
        manifest = _read(packaged_path("manifest", candidate), packaged=True)
        if wanted in manifest.aliases:
            return manifest
    valid = ", ".join(repr(n) for n in names)
    raise UnknownNameError(f"Unknown value {str(name_or_path)!r} for argument name. Valid values are {{{valid}}}.")


def _read(path: Path, *, packaged: bool) -> Manifest:
    manifest = parse_manifest(load_toml(path, "manifest file"), str(path))
    if packaged and manifest.name != path.stem:
        raise ConfigError(f"{path}: name: {manifest.name!r} differs from the file name {path.stem!r}")
    return manifest


def parse_manifest(data: Mapping[str, Any], source: str) -> Manifest:
    """Validate the TOML table ``data`` read from ``source`` and build a :class:`Manifest`."""
    top = Table(data, source)
    top.check_keys(_TOP_KEYS)
    schema = top.integer("schema", required=True)
    if schema != SCHEMA_VERSION:
        top.fail("schema", f"expected {SCHEMA_VERSION}, got {schema}")
    name = top.string("name", required=True)
    if not _NAME_RE.match(name):
        top.fail("name", f"expected lower-case letters, digits, '-', '_' or '.', got {name!r}")
    generator = top.string("generator") or None
    if generator is not None and not _GENERATOR_RE.match(generator):
        top.fail("generator", f"expected 'eventpipe.<module>:<function>', got {generator!r}")
    files = tuple(_parse_file(t) for t in top.tables("files"))
    if generator is None and not files:
        top.fail("files", "a manifest needs at least one [[files]] table or a generator")
    if generator is not None and files:
        top.fail("generator", "give either a generator or [[files]], not both")
    seen: set[str] = set()
    for i, entry in enumerate(files):
        if entry.name in seen:
            top.fail(f"files[{i}].name", f"{entry.name!r} appears twice")
        seen.add(entry.name)
    aliases = top.strings("aliases")
    for alias in aliases:
        if not _NAME_RE.match(alias):
            top.fail("aliases", f"expected lower-case names, got {alias!r}")
    return Manifest(
        name=name,
        title=top.string("title", required=True),
        homepage=_homepage(top, generator),
        license=top.string("license", required=True),
        citation=top.string("citation", required=True),
        source=source,
        aliases=aliases,
        notes=top.string("notes"),
        generator=generator,
        files=files,
    )


def _homepage(top: Table, generator: str | None) -> str:
    homepage = top.string("homepage", required=generator is None)
    if homepage:
        _url(top, "homepage", homepage)
    return homepage


def _parse_file(table: Table) -> FileEntry:
    table.check_keys(_FILE_KEYS)
    name = table.string("name", required=True)
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        table.fail("name", f"expected a plain file name (no folders, not hidden), got {name!r}")
    checksums = _checksums(table)
    urls = table.strings("urls")
    for url in urls:
        _url(table, "urls", url)
    pages = table.strings("pages")
    for page in pages:
        _url(table, "pages", page)
    manual = table.boolean("manual", default=False)
    if not urls and not manual:
        table.fail("urls", "a file that is not `manual` needs at least one URL")
    extract = table.boolean("extract", default=archive_kind(name) is not None)
    if extract and archive_kind(name) is None:
        valid = ", ".join(sorted(ARCHIVE_SUFFIXES))
        table.fail("extract", f"{name!r} does not end like an archive eventpipe can unpack ({valid})")
    extract_to = _relpath(table, "extract_to", table.string("extract_to") or ".")
    members = tuple(_parse_member(t) for t in table.tables("members"))
    if members and not extract:
        table.fail("members", "only archives that are unpacked can list members")
    return FileEntry(
        name=name,
        checksums=checksums,
        urls=urls,
        pages=pages,
        size=table.integer("size", minimum=0),
        manual=manual,
        extract=extract,
        extract_to=extract_to,
        nested=table.boolean("nested", default=False),
        provides=tuple(_relpath(table, "provides", p) for p in table.strings("provides")),
        members=members,
        note=table.string("note"),
    )


def _parse_member(table: Table) -> Member:
    table.check_keys(_MEMBER_KEYS)
    path = _relpath(table, "path", table.string("path", required=True))
    if path == ".":
        table.fail("path", "expected the path of a file")
    return Member(path=path, checksums=_checksums(table), size=table.integer("size", minimum=0))


def _checksums(table: Table) -> dict[str, str]:
    found: dict[str, str] = {}
    for algorithm, digits in HEX_DIGITS.items():
        value = table.string(algorithm).lower()
        if not value:
            continue
        if not re.fullmatch(f"[0-9a-f]{{{digits}}}", value):
            table.fail(algorithm, f"expected {digits} hexadecimal digits, got {value!r}")
        found[algorithm] = value
    if not found:
        table.fail("md5", "give at least one checksum (md5 and/or sha256)")
    return found


def _url(table: Table, key: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        table.fail(key, f"expected an http(s) URL, got {url!r}")


def _relpath(table: Table, key: str, value: str) -> str:
    posix = PurePosixPath(value)
    if "\\" in value or posix.is_absolute() or ".." in posix.parts or re.match(r"^[A-Za-z]:", value):
        table.fail(key, f"expected a relative path inside the raw folder, got {value!r}")
    return posix.as_posix()
