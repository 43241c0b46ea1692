"""The one validator of eventpipe's TOML documents (dataset manifests and training pipelines).

Both kinds are small, hand-edited files whose every error must name the file, the dotted key and what
is allowed. A :class:`Table` wraps one parsed table and hands out checked values; unknown keys are
errors that list the valid ones, so a typo never goes unnoticed.

>>> t = Table({"lr": 0.1, "name": "adam"}, "run.toml", "optimizer.")
>>> t.check_keys({"lr", "name", "momentum"})
>>> t.number("lr", 1e-3, minimum=0.0), t.string("name", choices=("adam", "sgd"))
(0.1, 'adam')
>>> t.integer("momentum", 3)
3
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, overload

from eventpipe.errors import ConfigError, DataNotFoundError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef, unused-ignore]

TOMLDecodeError = tomllib.TOMLDecodeError
_MISSING: Any = object()


def load_toml(path: str | Path, what: str = "file") -> dict[str, Any]:
    """Parse the TOML file ``path``; a missing file or bad syntax is one error naming the file."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataNotFoundError(f"{what} not found: {path}") from None
    except (TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def loads_value(text: str) -> Any:
    """``text`` read as one TOML value (``32`` -> 32, ``true`` -> True), else kept as the string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except TOMLDecodeError:
        return text


class Table:
    """Typed, checked access to one table of a TOML document read from ``source``.

    ``prefix`` is the dotted path of the table (``"data."``, ``"files[0]."``) that errors put before a
    key. Getters take a default; ``required=True`` makes a missing key an error instead.
    """

    def __init__(self, data: Any, source: str, prefix: str = "") -> None:
        if not isinstance(data, Mapping):
            where = prefix.rstrip(".") or "top level"
            raise ConfigError(f"{source}: {where}: expected a table, got {type(data).__name__} {data!r}")
        self.data: Mapping[str, Any] = data
        self.source = source
        self.prefix = prefix

    def fail(self, key: str, problem: str) -> NoReturn:
        """Raise the :class:`ConfigError` ``<source>: <prefix><key>: <problem>``."""
        raise ConfigError(f"{self.source}: {self.prefix}{key}: {problem}")

    def check_keys(self, valid: Collection[str]) -> None:
        """Reject any key not in ``valid``, listing the valid keys."""
        for key in self.data:
            if key not in valid:
                self.fail(key, f"unknown key; valid keys are {{{', '.join(sorted(valid))}}}")

    def has(self, key: str) -> bool:
        """True when ``key`` is present (and not an empty string)."""
        return key in self.data and self.data[key] != ""

    def _get(self, key: str, kinds: type | tuple[type, ...], what: str, default: Any, required: bool) -> Any:
        if key not in self.data:
            if required:
                self.fail(key, "required key is missing")
            return default
        value = self.data[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _as_tuple(kinds)):
            self.fail(key, f"expected {what}, got {type(value).__name__} {value!r}")
        return value

    def string(self, key: str, default: str = "", *, required: bool = False,
               choices: Sequence[str] | None = None) -> str:
        """A string (stripped); with ``choices``, one of them."""
        value = self._get(key, str, "a string", default, required).strip()
        if choices is not None and value not in choices:
            valid = ", ".join(repr(c) for c in choices)
            self.fail(key, f"unknown value {value!r}; valid values are {{{valid}}}")
        return str(value)

    @overload
    def integer(self, key: str, default: int, *, required: bool = ..., minimum: int | None = ...) -> int: ...

    @overload
    def integer(self, key: str, default: None = ..., *, required: bool = ...,
                minimum: int | None = ...) -> int | None: ...

    def integer(self, key: str, default: int | None = None, *, required: bool = False,
                minimum: int | None = None) -> int | None:
        """An integer (not a bool), at least ``minimum``."""
        value = self._get(key, int, "an integer", default, required)
        if value is not None and minimum is not None and value < minimum:
            self.fail(key, f"expected an integer >= {minimum}, got {value}")
        return value

    def number(self, key: str, default: float, *, minimum: float = -math.inf, maximum: float = math.inf,
               open_min: bool = False) -> float:
        """A finite int or float in ``[minimum, maximum]`` (``(minimum, ...`` with ``open_min``), as float."""
        value = self._get(key, (int, float), "a number", default, False)
        if not math.isfinite(value) or value < minimum or value > maximum or (open_min and value == minimum):
            low = "(" if open_min else "["
            self.fail(key, f"expected a finite number in {low}{minimum}, {maximum}], got {value!r}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        """``true`` or ``false``."""
        return bool(self._get(key, bool, "true or false", default, False))

    def strings(self, key: str) -> tuple[str, ...]:
        """A list of non-empty strings (stripped)."""
        value = self._get(key, list, "a list of strings", [], False)
        for item in value:
            if not isinstance(item, str) or not item.strip():
                self.fail(key, f"expected non-empty strings, got {item!r}")
        return tuple(item.strip() for item in value)

    def table(self, key: str, *, required: bool = False) -> Table:
        """The sub-table ``key`` (empty when absent and not required)."""
        value = self._get(key, Mapping, "a table", {}, required)
        return Table(value, self.source, f"{self.prefix}{key}.")

    def tables(self, key: str) -> list[Table]:
        """An array of tables (``[[key]]``)."""
        value = self._get(key, list, "an array of tables ([[...]])", [], False)
        return [Table(item, self.source, f"{self.prefix}{key}[{i}].") for i, item in enumerate(value)]

    def values(self, exclude: Collection[str] = ()) -> dict[str, Any]:
        """The raw values except ``exclude`` (free-form keyword tables); nested tables are errors."""
        out = {}
        for key, value in self.data.items():
            if key in exclude:
                continue
            if isinstance(value, Mapping):
                self.fail(key, f"expected a value, not a nested table {value!r}")
            out[key] = value
        return out


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)
