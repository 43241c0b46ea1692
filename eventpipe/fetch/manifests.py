"""Dataset manifests: which files make up a dataset, where they come from, and how to check them.

One TOML file per dataset lives in the top-level ``data_manifests/`` folder and ships inside the wheel.
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
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from eventpipe.errors import ConfigError, UnknownNameError

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
#: Packaged data folders: kind -> folder name inside ``eventpipe/fetch/packaged``.
PACKAGED_KINDS = {"manifest": "manifests", "pipeline": "pipelines"}

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


# --------------------------------------------------------------------------------------------- packaged data


def packaged_dir(kind: str) -> Path:
    """Folder of the TOML files of ``kind`` (``"manifest"`` or ``"pipeline"``) that ship with eventpipe.

    ``data_manifests/`` and ``pipelines/`` at the top of the source tree are installed as
    ``eventpipe/fetch/packaged/{manifests,pipelines}`` (symbolic links in the source tree, real folders in
    a wheel), so the same lookup works for a wheel, an editable install and a source checkout.
    """
    if kind not in PACKAGED_KINDS:
        valid = ", ".join(repr(k) for k in PACKAGED_KINDS)
        raise ConfigError(f"Unknown value {kind!r} for argument kind. Valid values are {{{valid}}}.")
    return Path(str(resources.files("eventpipe.fetch").joinpath("packaged").joinpath(PACKAGED_KINDS[kind])))


def packaged_names(kind: str) -> tuple[str, ...]:
    """Sorted names (file stems) of the packaged TOML files of ``kind``."""
    folder = packaged_dir(kind)
    return tuple(sorted(p.stem for p in folder.glob("*.toml"))) if folder.is_dir() else ()


def packaged_path(kind: str, name: str) -> Path:
    """Path of the packaged ``<name>.toml`` of ``kind`` (``"manifest"`` or ``"pipeline"``).

    >>> packaged_path("manifest", "demo").name
    'demo.toml'
    """
    path = packaged_dir(kind) / f"{name}.toml"
    if not path.is_file():
        valid = ", ".join(repr(n) for n in packaged_names(kind))
        raise UnknownNameError(f"Unknown value {name!r} for argument name ({kind}). Valid values are {{{valid}}}.")
    return path


def manifest_names() -> tuple[str, ...]:
    """Names of the datasets that have a packaged manifest."""
    return packaged_names("manifest")


# ------------------------------------------------------------------------------------------------- loading


def load_manifest(name_or_path: str | Path) -> Manifest:
    """Load and validate a manifest: a packaged dataset name (or alias), or the path of a TOML file.

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
    canonical = _registered_name(wanted)
    if canonical in names:
        return _read(packaged_path("manifest", canonical), packaged=True)
    valid = ", ".join(repr(n) for n in names)
    raise UnknownNameError(f"Unknown value {str(name_or_path)!r} for argument name. Valid values are {{{valid}}}.")


def _registered_name(name: str) -> str | None:
    """The canonical name of a dataset alias registered in :mod:`eventpipe.datasets`, if any."""
    try:
        from eventpipe.datasets import get_dataset

        return get_dataset(name).name
    except (ImportError, UnknownNameError):
        return None


def _read(path: Path, *, packaged: bool) -> Manifest:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    manifest = parse_manifest(data, str(path))
    if packaged and manifest.name != path.stem:
        raise ConfigError(f"{path}: name: {manifest.name!r} differs from the file name {path.stem!r}")
    return manifest


def parse_manifest(data: Mapping[str, Any], source: str) -> Manifest:
    """Validate the TOML table ``data`` read from ``source`` and build a :class:`Manifest`."""
    top = _Table(data, source, "")
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


def _homepage(top: _Table, generator: str | None) -> str:
    homepage = top.string("homepage", required=generator is None)
    if homepage:
        top.url("homepage", homepage)
    return homepage


def _parse_file(table: _Table) -> FileEntry:
    table.check_keys(_FILE_KEYS)
    name = table.string("name", required=True)
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        table.fail("name", f"expected a plain file name (no folders, not hidden), got {name!r}")
    checksums = table.checksums()
    urls = table.strings("urls")
    for url in urls:
        table.url("urls", url)
    pages = table.strings("pages")
    for page in pages:
        table.url("pages", page)
    manual = table.boolean("manual", default=False)
    if not urls and not manual:
        table.fail("urls", "a file that is not `manual` needs at least one URL")
    extract = table.boolean("extract", default=archive_kind(name) is not None)
    if extract and archive_kind(name) is None:
        valid = ", ".join(sorted(ARCHIVE_SUFFIXES))
        table.fail("extract", f"{name!r} does not end like an archive eventpipe can unpack ({valid})")
    extract_to = table.relpath("extract_to", table.string("extract_to") or ".")
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
        provides=tuple(table.relpath("provides", p) for p in table.strings("provides")),
        members=members,
        note=table.string("note"),
    )


def _parse_member(table: _Table) -> Member:
    table.check_keys(_MEMBER_KEYS)
    path = table.relpath("path", table.string("path", required=True))
    if path == ".":
        table.fail("path", "expected the path of a file")
    return Member(path=path, checksums=table.checksums(), size=table.integer("size", minimum=0))


class _Table:
    """Typed access to one TOML table; every error names the file and the dotted key."""

    def __init__(self, data: Mapping[str, Any], source: str, prefix: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: {prefix or 'top level'}: expected a table, got {type(data).__name__}")
        self.data, self.source, self.prefix = data, source, prefix

    def fail(self, key: str, problem: str) -> None:
        raise ConfigError(f"{self.source}: {self.prefix}{key}: {problem}")

    def check_keys(self, valid: set[str]) -> None:
        for key in self.data:
            if key not in valid:
                self.fail(key, f"unknown key; valid keys are {{{', '.join(sorted(valid))}}}")

    def _get(self, key: str, kind: type | tuple[type, ...], what: str, required: bool) -> Any:
        if key not in self.data:
            if required:
                self.fail(key, "required key is missing")
            return None
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(key, f"expected {what}, got {type(value).__name__} {value!r}")
        return value

    def string(self, key: str, *, required: bool = False) -> str:
        value = self._get(key, str, "a string", required)
        return "" if value is None else value.strip()

    def integer(self, key: str, *, required: bool = False, minimum: int | None = None) -> int | None:
        value = self._get(key, int, "an integer", required)
        if value is not None and minimum is not None and value < minimum:
            self.fail(key, f"expected an integer >= {minimum}, got {value}")
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._get(key, bool, "true or false", False)
        return default if value is None else value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, "a list of strings", False) or []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                self.fail(key, f"expected non-empty strings, got {item!r}")
        return tuple(item.strip() for item in value)

    def tables(self, key: str) -> list[_Table]:
        value = self._get(key, list, "an array of tables ([[...]])", False) or []
        return [_Table(item, self.source, f"{self.prefix}{key}[{i}].") for i, item in enumerate(value)]

    def checksums(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for algorithm, digits in HEX_DIGITS.items():
            value = self.string(algorithm).lower()
            if not value:
                continue
            if not re.fullmatch(f"[0-9a-f]{{{digits}}}", value):
                self.fail(algorithm, f"expected {digits} hexadecimal digits, got {value!r}")
            found[algorithm] = value
        if not found:
            self.fail("md5", "give at least one checksum (md5 and/or sha256)")
        return found

    def url(self, key: str, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.fail(key, f"expected an http(s) URL, got {url!r}")

    def relpath(self, key: str, value: str) -> str:
        posix = PurePosixPath(value)
        if "\\" in value or posix.is_absolute() or ".." in posix.parts or re.match(r"^[A-Za-z]:", value):
            self.fail(key, f"expected a relative path inside the raw folder, got {value!r}")
        return posix.as_posix()
