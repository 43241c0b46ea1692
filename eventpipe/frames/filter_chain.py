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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventpipe.errors import ConfigError
from eventpipe.events import Events, empty_events
from eventpipe.frames import filters

__all__ = ["FILTERS", "REQUIRED", "FilterChain", "filter_chain"]


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
