"""A declarative chain of deterministic event filters, run on each sample before integration.

A frames spec describes its filters as plain data, e.g. in a pipeline TOML::

    filters = [{name = "denoise", filter_time = 10000}, {name = "refractory_period", period = 1000}]

:func:`filter_chain` is the one parser of that description. It fills every default, so
:attr:`FilterChain.identity` is the same string for equal chains however they were written: a store
fingerprint can include it. Only filters that give the same events on every run (and keep the
sensor geometry) belong here; random ones are transforms (:mod:`eventpipe.transforms.filters`).

>>> chain = filter_chain([{"name": "denoise", "filter_time": 10000}, {"name": "crop_time", "t_max": 5e6}])
>>> chain.identity
'denoise(filter_time=10000);crop_time(t_min=0,t_max=5000000)'

On the command line each filter is one ``--filter NAME:ARG=VALUE,...`` option, read by
:func:`filter_option` into the same description and written back by :func:`format_filter`. Times
are µs here; :class:`~eventpipe.frames.IntegrationSpec` also reads them with a unit (``"10ms"``)
from every surface, like its own durations.

>>> filter_option("drop_pixel:coordinates=[[3,4],[5,6]],hot_pixel_frequency=50")
{'name': 'drop_pixel', 'coordinates': [[3, 4], [5, 6]], 'hot_pixel_frequency': 50}
>>> format_filter(chain.steps[1])
'crop_time:t_max=5000000'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventpipe.errors import ConfigError
from eventpipe.events import Events, empty_events
from eventpipe.frames import filters

__all__ = ["FILTERS", "RANDOM", "REQUIRED", "TIME_ARGUMENTS", "FilterChain", "filter_chain", "filter_option",
           "format_filter"]


def _time_skew(events: Events, coefficient: float = 1, offset: float = 0) -> Events:
    return filters.time_skew(events, coefficient, offset)


def _drop_pixel(events: Events, coordinates: Sequence[Sequence[int]] = (), hot_pixel_frequency: float = 0) -> Events:
    if hot_pixel_frequency:
        events = filters.drop_pixel(events, filters.hot_pixels(events, hot_pixel_frequency))
    return filters.drop_pixel(events, coordinates)


REQUIRED = "required"
"""The default of an argument that a description must give."""

# name -> (function, {argument: default or REQUIRED})
FILTERS: dict[str, tuple[Callable[..., Events], dict[str, Any]]] = {
    "denoise": (filters.denoise, {"filter_time": REQUIRED}),
    "refractory_period": (filters.refractory_period, {"period": REQUIRED}),
    "crop_time": (filters.crop_time, {"t_min": 0, "t_max": None}),
    "drop_time_window": (filters.drop_time_window, {"start": REQUIRED, "stop": REQUIRED}),
    "drop_pixel": (_drop_pixel, {"coordinates": (), "hot_pixel_frequency": 0}),
    "time_skew": (_time_skew, {"coefficient": 1, "offset": 0}),
}
"""The filters a chain accepts, with their arguments and defaults."""
TIME_ARGUMENTS = frozenset({"filter_time", "period", "t_min", "t_max", "start", "stop", "offset"})
"""Arguments in µs, which the command line also takes with a unit (``10ms``)."""
RANDOM = ("drop_event", "drop_by_time", "drop_by_area", "spatial_jitter", "time_jitter", "uniform_noise")
"""Filters that draw random numbers: transforms only, never part of a frames store."""


def _canonical(value: Any) -> Any:
    """Numbers that are whole become ints (so 1e4 and 10000 give one identity); lists become tuples."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(v) for v in value)
    return value


@dataclass(frozen=True)
class FilterChain:
    """Filters applied in order; ``steps`` holds ``(name, ((argument, value), ...))`` with every default."""

    steps: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]

    @property
    def identity(self) -> str:
        """A stable text for fingerprints: ``name(arg=value,...)`` joined by ``;`` ('' for no filters)."""
        return ";".join(f"{name}({','.join(f'{k}={v!r}' for k, v in args)})" for name, args in self.steps)

    def describe(self) -> list[dict[str, Any]]:
        """The chain as the plain description :func:`filter_chain` reads (defaults filled in)."""
        return [{"name": name, **dict(args)} for name, args in self.steps]

    def __call__(self, events: Events) -> Events:
        for name, args in self.steps:
            events = FILTERS[name][0](events, **dict(args))
        return events

    def __bool__(self) -> bool:
        return bool(self.steps)


def filter_chain(description: Sequence[Mapping[str, Any]] | FilterChain | None) -> FilterChain:
    """Parse ``[{name = ..., arg = ...}, ...]`` into a :class:`FilterChain`, checking every argument now.

    Raises
    ------
    ConfigError
        Not a list of tables, an unknown filter or argument, a missing or invalid value; the message
        names ``filters[i]`` and the argument.
    """
    if isinstance(description, FilterChain):
        return description
    if description is None:
        return FilterChain(())
    if isinstance(description, (str, bytes, Mapping)) or not isinstance(description, Sequence):
        raise ConfigError(f"Expected filters as a list of tables like {{name = 'denoise', ...}}. Got {description!r} instead.")
    steps = []
    for i, item in enumerate(description):
        where = f"filters[{i}]"
        if not isinstance(item, Mapping) or "name" not in item:
            raise ConfigError(f"{where}: expected a table with a 'name' key. Got {item!r} instead.")
        name = item["name"]
        if name in RANDOM:
            raise ConfigError(f"{where}: {name} is random, so its frames could not be stored and reused; apply it as a "
                              f"transform (eventpipe.transforms) instead. Valid filters are {sorted(FILTERS)}.")
        if name not in FILTERS:
            raise ConfigError(f"{where}: unknown filter {name!r}. Valid filters are {sorted(FILTERS)}.")
        fn, defaults = FILTERS[name]
        given = {k: v for k, v in item.items() if k != "name"}
        unknown = sorted(set(given) - set(defaults))
        if unknown:
            raise ConfigError(f"{where}: unknown argument {unknown[0]!r} for {name}. Valid arguments are {sorted(defaults)}.")
        missing = [k for k, v in defaults.items() if v is REQUIRED and k not in given]
        if missing:
            raise ConfigError(f"{where}: {name} needs argument {missing[0]!r}.")
        args = tuple((k, _canonical(given.get(k, default))) for k, default in defaults.items())
        try:
            fn(empty_events(), **dict(args))
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None
        steps.append((name, args))
    return FilterChain(tuple(steps))


def _split_arguments(text: str) -> list[str]:
    """``a=1,b=[[1,2],[3,4]]`` -> ``["a=1", "b=[[1,2],[3,4]]"]``: commas inside brackets stay."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def _value(name: str, key: str, text: str, option: str) -> Any:
    """One argument's value: a duration with a unit for a time argument, else a JSON value (``3``, ``0.5``, ``[[1, 2]]``)."""
    if key not in FILTERS.get(name, (None, {}))[1]:
        return text  # filter_chain names the unknown filter or argument
    if key in TIME_ARGUMENTS and re.fullmatch(r"[\d.]+\s*(us|µs|ms|s)", text.strip()):
        return text.strip()  # the spec reads the unit, as for its own durations
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ConfigError(f"--filter {option!r}: expected {key} as a number, a list like [[1, 2]] or, for a time, a "
                          f"duration with a unit (10ms). Got {text!r} instead.") from None


def filter_option(option: str) -> dict[str, Any]:
    """One ``--filter NAME:ARG=VALUE,ARG=VALUE`` option as a description item for :func:`filter_chain`.

    Raises
    ------
    ConfigError
        No filter name, an argument without ``=`` or a value that is not a number, list or duration.
    """
    name, _, rest = option.partition(":")
    name = name.strip()
    if not name:
        raise ConfigError(f"--filter {option!r}: expected NAME:ARG=VALUE,... e.g. denoise:filter_time=10ms.")
    item: dict[str, Any] = {"name": name}
    for part in _split_arguments(rest) if rest.strip() else []:
        key, eq, text = part.partition("=")
        key = key.strip()
        if not eq or not key or not text.strip():
            raise ConfigError(f"--filter {option!r}: expected ARG=VALUE after {name}:, e.g. denoise:filter_time=10ms. "
                              f"Got {part!r} instead.")
        item[key] = _value(name, key, text, option)
    return item


def _format_value(key: str, value: Any, time: Callable[[int], str]) -> str:
    if key in TIME_ARGUMENTS and isinstance(value, int) and value >= 1:
        return time(value)
    if isinstance(value, tuple):
        return "[" + ",".join(_format_value("", v, time) for v in value) + "]"
    return repr(value)


def format_filter(step: tuple[str, tuple[tuple[str, Any], ...]], time: Callable[[int], str] = str) -> str:
    """A :attr:`FilterChain.steps` item as the ``--filter`` text :func:`filter_option` reads (defaults left
    out); ``time`` writes the µs of a time argument (e.g. with a unit)."""
    name, args = step
    defaults = FILTERS[name][1]
    given = [f"{k}={_format_value(k, v, time)}" for k, v in args if v != defaults[k] and v is not None]
    return f"{name}:{','.join(given)}" if given else name
