"""``IntegrationSpec``: the one parser and validator of integration options, from any surface.

Exactly one mode is chosen by exactly one of its arguments:

========================  =====================  ====================================================
argument                  mode                   frames
========================  =====================  ====================================================
``frames=M``              ``number``/``time``    M, split by event count or time (``split_by``)
``duration_us=D``         ``duration``           ``ceil(span / D)``, at least 1
``events_per_frame=K``    ``events_per_frame``   ``ceil(N / K)`` (or ``N // K`` with drop_incomplete)
``fn=...``                ``plugin``             whatever the function returns
``n_time_bins=M``         ``n_time_bins``        M (tonic's ``ToFrame(n_time_bins=...)``)
``event_count=K``         ``event_count``        tonic's ``ToFrame(event_count=...)``
``time_window=W``         ``time_window``        tonic's ``ToFrame(time_window=...)``, W in µs
``voxel_grid=M``          ``voxel_grid``         M float frames of one signed channel (tonic's ``ToVoxelGrid``)
``time_surface=DT``       ``time_surface``       tonic's ``ToTimesurface(dt=DT, tau=...)``, floats
``event_image=True``      ``event_image``        1 count frame of every event (tonic's ``ToImage``)
``bina_rep=T``            ``bina_rep``           T float frames (tonic's ``ToBinaRep`` of ``T * n_bits`` bins)
``exp_decay=W``           ``exp_decay``          exponentially decayed frames of W µs windows, floats
========================  =====================  ====================================================

Every mode also takes ``filters``, a chain of deterministic event filters run on each sample
before integration (see :mod:`eventpipe.frames.filter_chain`; on the command line
``--filter denoise:filter_time=10ms``), and ``duration_us`` takes ``duration_rule``: ``"aligned"``
windows from the first event (the default) or SpikingJelly 0.0.0.0.14's ``"next-event"`` windows.
Both are part of a store's name and fingerprint only when given, so existing stores keep theirs.

The float representations are defined in :mod:`eventpipe.frames.representations`; their frames,
and a plugin's fractional ones, are stored as float16 or float32 by ``frames_dtype`` (see
:func:`eventpipe.frames.accumulate.float_frames`).

The command line (``eventpipe prepare``, ``eventpipe show``), the dataset classes, ``ToFrames``,
``integrate()`` and a pipeline's ``[data]`` table all pass their options, under the field names
above, to :func:`integration_spec`; so every mode is reachable from each of them and a bad option
gives the same error everywhere. :meth:`IntegrationSpec.command_line` is the inverse for the CLI.

>>> spec = integration_spec({"frames": 20})
>>> spec.name, spec.to_dict()
('frames_number_20_split_by_number', {'mode': 'number', 'frames': 20, 'split_by': 'number'})
>>> IntegrationSpec.from_dict(spec.to_dict()) == spec
True
>>> integration_spec({"duration_us": "10ms"}).command_line()
['--duration', '10ms']
"""

from __future__ import annotations

import hashlib
import numbers
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from eventpipe.errors import ConfigError
from eventpipe.events import SensorSize
from eventpipe.frames import representations, slicing
from eventpipe.frames.accumulate import FRAMES_DTYPES, accumulate, as_event_array, check, float_frames
from eventpipe.frames.filter_chain import TIME_ARGUMENTS, FilterChain, filter_chain, format_filter
from eventpipe.frames.plugins import IntegratorFn, Plugin, load_plugin

MODE_ARGUMENTS = ("frames", "duration_us", "events_per_frame", "fn", "n_time_bins", "event_count", "time_window",
                  "voxel_grid", "time_surface", "event_image", "bina_rep", "exp_decay")
"""The arguments of which exactly one selects the mode."""
SPLIT_BY = ("number", "time")
_ARGUMENT_MODE = {
    "duration_us": "duration",
    "events_per_frame": "events_per_frame",
    "fn": "plugin",
    "n_time_bins": "n_time_bins",
    "event_count": "event_count",
    "time_window": "time_window",
    "voxel_grid": "voxel_grid",
    "time_surface": "time_surface",
    "event_image": "event_image",
    "bina_rep": "bina_rep",
    "exp_decay": "exp_decay",
}
_OPTIONS = ("split_by", "drop_incomplete", "overlap", "include_incomplete", "tau", "n_bits", "frames_dtype",
            "duration_rule", "filters")
_WINDOWED = ("time_window", "time_surface", "exp_decay")
"""Modes of tonic's ``time_window`` slicing: ``overlap`` in µs, ``include_incomplete``."""
FLOAT_MODES = ("plugin", "voxel_grid", "time_surface", "bina_rep", "exp_decay")
"""Modes whose frames may be floats (``frames_dtype`` applies)."""
DURATION_RULES = ("aligned", "next-event")
"""Values of ``duration_rule``: windows aligned on the first event, or each opened by the next event."""
N_BITS = (2, 24)
"""Valid range of ``n_bits``: each frame's codes stay exact in float32."""


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ConfigError(f"Expected a positive integer for {name}. Got {value!r} instead.")
    return int(value)


def _number(name: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"Expected a number for {name}. Got {value!r} instead.")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _fmt(value: float | int) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class IntegrationSpec:
    """How to integrate a sample's events into ``[T, P, H, W]`` count frames (see the module table).

    Parameters
    ----------
    frames
        Fixed number of frames M, split by ``split_by``: ``"number"`` (equal event counts, remainder
        to the last frame) or ``"time"`` (equal durations ``span // M`` µs, the last frame runs to the end).
    duration_us
        Fixed frame duration in µs; the frame count varies per sample.
    events_per_frame
        Fixed number of events per frame; ``drop_incomplete`` drops the final partial frame.
    fn
        A plugin ``fn(events, H, W) -> [T, P, H, W]``: a callable, ``"module:function"`` or a
        registered name (see :mod:`eventpipe.frames.plugins`).
    n_time_bins, event_count, time_window
        tonic's ``ToFrame`` modes with its exact slicing; ``overlap`` is a fraction of a bin for
        ``n_time_bins``, a number of events for ``event_count`` and µs for ``time_window``;
        ``include_incomplete`` keeps the final partial window of the last two.
    voxel_grid, time_surface, event_image, bina_rep, exp_decay
        The representations of :mod:`eventpipe.frames.representations`: ``time_surface`` and
        ``exp_decay`` take ``tau`` (µs, required), ``overlap`` (µs) and ``include_incomplete`` like
        ``time_window``; ``bina_rep`` takes ``n_bits`` (N, default 8).
    frames_dtype
        How float frames are stored: ``"auto"``, ``"float16"`` or ``"float32"``; unset, the float
        modes use ``"auto"`` and a plugin's whole non-negative results stay counts.
    duration_rule
        With ``duration_us``: ``"aligned"`` (frame ``i`` holds ``t[0] + i*D <= t < t[0] + (i+1)*D``)
        or ``"next-event"`` (SpikingJelly 0.0.0.0.14: each window opens at the next event not yet taken).
    filters
        Event filters applied before integration, as the description :func:`filter_chain` reads
        (``[{"name": "denoise", "filter_time": 10000}, ...]``) or a :class:`FilterChain`.
    """

    frames: int | None = None
    split_by: str = "number"
    duration_us: int | None = None
    events_per_frame: int | None = None
    fn: str | IntegratorFn | None = None
    drop_incomplete: bool = False
    n_time_bins: int | None = None
    event_count: int | None = None
    time_window: int | None = None
    overlap: float | int = 0
    include_incomplete: bool = False
    voxel_grid: int | None = None
    time_surface: int | None = None
    event_image: bool | None = None
    bina_rep: int | None = None
    exp_decay: int | None = None
    tau: int | None = None
    n_bits: int = 8
    frames_dtype: str | None = None
    duration_rule: str = "aligned"
    filters: FilterChain | Sequence[Mapping[str, Any]] = FilterChain(())

    def __post_init__(self) -> None:
        given = [a for a in MODE_ARGUMENTS if getattr(self, a) is not None]
        if len(given) != 1:
            raise ConfigError(
                f"Expected exactly one of {', '.join(MODE_ARGUMENTS)}. "
                f"Got {', '.join(given) if given else 'none'} instead."
            )
        (arg,) = given
        if self.split_by not in SPLIT_BY:
            raise ConfigError(
                f"Unknown value {self.split_by!r} for argument split_by. Valid values are {{'number', 'time'}}."
            )
        for a in ("frames", "duration_us", "events_per_frame", "n_time_bins", "event_count", "time_window",
                  "voxel_grid", "time_surface", "bina_rep", "exp_decay"):
            if getattr(self, a) is not None:
                object.__setattr__(self, a, _positive_int(a, getattr(self, a)))
        if self.fn is not None and not (callable(self.fn) or (isinstance(self.fn, str) and self.fn)):
            raise ConfigError(f"Expected fn as a callable, 'module:function' or a registered name. Got {self.fn!r}.")
        if self.event_image is not None and self.event_image is not True:
            raise ConfigError(f"Expected event_image as True. Got {self.event_image!r} instead.")
        self._check_options(arg)
        object.__setattr__(self, "filters", filter_chain(_filter_durations(self.filters)))

    def _check_options(self, arg: str) -> None:
        applies = {
            "split_by": ("frames",),
            "drop_incomplete": ("events_per_frame",),
            "overlap": ("n_time_bins", "event_count", *_WINDOWED),
            "include_incomplete": ("event_count", *_WINDOWED),
            "tau": ("time_surface", "exp_decay"),
            "n_bits": ("bina_rep",),
            "frames_dtype": ("fn", "voxel_grid", "time_surface", "bina_rep", "exp_decay"),
            "duration_rule": ("duration_us",),
        }
        defaults = {**_DEFAULTS, "tau": None, "frames_dtype": None}
        for option, args in applies.items():
            if getattr(self, option) != defaults[option] and arg not in args:
                raise ConfigError(f"Argument {option} applies only with {' or '.join(args)}; got it with {arg}.")
        overlap = _number("overlap", self.overlap)
        object.__setattr__(self, "overlap", overlap)
        if arg == "n_time_bins" and not 0 <= overlap < 1:
            raise ConfigError(f"Expected overlap (a fraction of a bin) in [0, 1). Got {overlap!r} instead.")
        if arg in ("event_count", *_WINDOWED):
            size = getattr(self, arg)
            if arg == "event_count" and not isinstance(overlap, int):
                raise ConfigError(f"Expected overlap as a whole number of events. Got {overlap!r} instead.")
            if not 0 <= overlap < size:
                raise ConfigError(f"Expected overlap in [0, {arg}) = [0, {size}). Got {overlap!r} instead.")
        for flag in ("drop_incomplete", "include_incomplete"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise ConfigError(f"Expected {flag} as True or False. Got {getattr(self, flag)!r} instead.")
            object.__setattr__(self, flag, bool(getattr(self, flag)))
        if arg in ("time_surface", "exp_decay"):
            if self.tau is None:
                raise ConfigError(f"{arg} needs tau, the decay time constant in µs (e.g. tau=\"5ms\").")
            object.__setattr__(self, "tau", _positive_int("tau", self.tau))
        n_bits = _positive_int("n_bits", self.n_bits)
        if not N_BITS[0] <= n_bits <= N_BITS[1]:
            raise ConfigError(f"Expected n_bits in [{N_BITS[0]}, {N_BITS[1]}]. Got {n_bits} instead.")
        object.__setattr__(self, "n_bits", n_bits)
        if self.duration_rule not in DURATION_RULES:
            raise ConfigError(f"Unknown value {self.duration_rule!r} for argument duration_rule. Valid values are "
                              f"{{{', '.join(map(repr, DURATION_RULES))}}}.")
        if self.frames_dtype is not None and self.frames_dtype not in FRAMES_DTYPES:
            raise ConfigError(f"Unknown value {self.frames_dtype!r} for argument frames_dtype. Valid values are "
                              f"{{{', '.join(map(repr, FRAMES_DTYPES))}}}.")

    @property
    def mode(self) -> str:
        """``number``, ``time``, ``duration``, ``events_per_frame``, ``plugin``, ``n_time_bins``,
        ``event_count``, ``time_window`` or a representation (``voxel_grid``, ``time_surface``,
        ``event_image``, ``bina_rep``, ``exp_decay``)."""
        if self.frames is not None:
            return self.split_by
        return next(_ARGUMENT_MODE[a] for a in MODE_ARGUMENTS[1:] if getattr(self, a) is not None)

    @property
    def fixed_frames(self) -> int | None:
        """T when every sample gets the same number of frames (``frames``, ``n_time_bins``,
        ``voxel_grid``, ``bina_rep``, ``event_image``), else None."""
        for arg in ("frames", "n_time_bins", "voxel_grid", "bina_rep"):
            if getattr(self, arg) is not None:
                return int(getattr(self, arg))
        return 1 if self.event_image else None

    def frame_size(self, sensor_size: SensorSize) -> SensorSize:
        """The ``(W, H, C)`` of this spec's frames on ``sensor_size``: one channel for a voxel grid."""
        return sensor_size._replace(polarities=1) if self.voxel_grid is not None else sensor_size

    @cached_property
    def plugin(self) -> Plugin | None:
        """The resolved plugin of ``fn`` (imported on first access), else None."""
        return load_plugin(self.fn) if self.fn is not None else None

    @property
    def name(self) -> str:
        """Readable store name, e.g. ``frames_number_20_split_by_number`` or ``duration_10000us``;
        filters add ``_filters_`` and a short hash of their identity."""
        name = self._mode_name() + (f"_{self.frames_dtype}" if self.frames_dtype else "")
        if self.filters:
            name += f"_filters_{hashlib.sha256(self.filter_chain.identity.encode()).hexdigest()[:10]}"
        return name

    @property
    def filter_chain(self) -> FilterChain:
        """``filters`` as the parsed :class:`FilterChain` (empty when none)."""
        return typing.cast(FilterChain, self.filters)

    def _mode_name(self) -> str:
        mode = self.mode
        if mode in SPLIT_BY:
            return f"frames_number_{self.frames}_split_by_{mode}"
        if mode == "duration":
            return f"duration_{self.duration_us}us" + ("_next_event" if self.duration_rule == "next-event" else "")
        if mode == "events_per_frame":
            return f"events_per_frame_{self.events_per_frame}" + ("_drop_incomplete" if self.drop_incomplete else "")
        if mode == "plugin":
            plugin = typing.cast(Plugin, self.plugin)
            digest = hashlib.sha256(f"{plugin.qualname}\n{plugin.source_sha256}".encode()).hexdigest()
            return f"plugin_{plugin.short_name}_{digest[:10]}"
        if mode == "event_image":
            return mode
        if mode == "bina_rep":
            return f"bina_rep_{self.bina_rep}_bits_{self.n_bits}"
        unit = "us" if mode in _WINDOWED else ""
        name = f"{mode}_{getattr(self, mode)}{unit}"
        if self.tau is not None:
            name += f"_tau_{self.tau}us"
        if self.overlap:
            name += f"_overlap_{_fmt(self.overlap)}{unit}"
        return name + ("_include_incomplete" if self.include_incomplete else "")

    def to_dict(self) -> dict[str, Any]:
        """The mode and its non-default parameters (JSON/TOML friendly); inverse of :meth:`from_dict`."""
        mode = self.mode
        arg = "frames" if mode in SPLIT_BY else next(a for a, m in _ARGUMENT_MODE.items() if m == mode)
        value = getattr(self, arg)
        if mode == "plugin" and not isinstance(value, str):  # a callable: name it module:qualname
            value = typing.cast(Plugin, self.plugin).ref
        out: dict[str, Any] = {"mode": mode, arg: value}
        if mode in SPLIT_BY:
            out["split_by"] = mode
        for option in ("drop_incomplete", "overlap", "include_incomplete", "tau", "frames_dtype"):
            if getattr(self, option):
                out[option] = getattr(self, option)
        if self.n_bits != _DEFAULTS["n_bits"]:
            out["n_bits"] = self.n_bits
        if self.duration_rule != _DEFAULTS["duration_rule"]:
            out["duration_rule"] = self.duration_rule
        if self.filters:
            out["filters"] = self.filter_chain.describe()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IntegrationSpec:
        """Build from :meth:`to_dict` output (``mode`` is optional and checked when present)."""
        valid = {"mode", *MODE_ARGUMENTS, *_OPTIONS}
        unknown = sorted(set(d) - valid)
        if unknown:
            raise ConfigError(f"Unknown integration key(s) {unknown}. Valid keys are {sorted(valid)}.")
        kwargs = {k: v for k, v in d.items() if k != "mode"}
        mode = d.get("mode")
        if mode in SPLIT_BY:
            kwargs.setdefault("split_by", mode)
        spec = cls(**kwargs)
        if mode is not None and spec.mode != mode:
            raise ConfigError(f"Integration mode {mode!r} does not match its parameters {kwargs}.")
        return spec

    def fingerprint_parts(self) -> dict[str, Any]:
        """What identifies the frames this spec produces: the spec, for plugins the plugin identity, and
        the filters' identity when there are filters (absent otherwise, so older fingerprints hold)."""
        parts: dict[str, Any] = {"spec": self.to_dict(),
                                 "plugin": self.plugin.identity() if self.plugin is not None else None}
        if self.filters:
            parts["filters"] = self.filter_chain.identity
        return parts

    def slices(self, t: npt.NDArray[np.int64]) -> slicing.Slices:
        """Event index ranges of every frame for sorted timestamps ``t`` (µs); not for plugins."""
        mode, n = self.mode, len(t)
        if mode == "number":
            return slicing.by_number(n, self.frames)  # type: ignore[arg-type]
        if mode == "time":
            return slicing.by_time(t, self.frames)  # type: ignore[arg-type]
        if mode == "duration" and self.duration_rule == "next-event":
            return slicing.by_duration_next_event(t, self.duration_us)  # type: ignore[arg-type]
        if mode == "duration":
            return slicing.by_duration(t, self.duration_us)  # type: ignore[arg-type]
        if mode == "events_per_frame":
            return slicing.by_events_per_frame(n, self.events_per_frame, self.drop_incomplete)  # type: ignore[arg-type]
        if mode == "n_time_bins":
            return slicing.by_time_bins(t, self.n_time_bins, self.overlap)  # type: ignore[arg-type]
        if mode == "event_count":
            return slicing.by_event_count(n, self.event_count, int(self.overlap), self.include_incomplete)  # type: ignore[arg-type]
        if mode in _WINDOWED:
            return slicing.by_time_window(t, getattr(self, mode), self.overlap, self.include_incomplete)
        if mode == "event_image":
            return np.zeros(1, dtype=np.int64), np.full(1, n, dtype=np.int64)
        if mode == "bina_rep":
            return slicing.by_time_bins(t, self.bina_rep * self.n_bits)  # type: ignore[operator]
        raise ConfigError(f"Integration mode {mode!r} has no slices; it is computed by its plugin or kernel.")

    def command_line(self) -> list[str] | None:
        """The ``eventpipe prepare`` options that give this spec, or None where the CLI cannot name it
        (a plugin that is a lambda or a function of ``__main__``)."""
        out: list[str] = []
        for key, value in self.to_dict().items():
            if key == "mode":
                continue
            if key == "fn" and ("<" in str(value) or str(value).startswith("__main__:")):
                return None
            if key == "filters":
                for step in self.filter_chain.steps:
                    out += ["--filter", format_filter(step, format_duration)]
                continue
            flag = CLI_FLAGS.get(key, "--" + key.replace("_", "-"))
            if isinstance(value, bool):
                out.append(flag)
            else:
                out += [flag, format_duration(value) if key in DURATION_KEYS else _fmt(value)]
        return out

    def __call__(
        self, events: Any, sensor_size: SensorSize | Sequence[int], sample: str | None = None, *,
        validated: bool = False,
    ) -> np.ndarray:
        """Frames ``[T, C, H, W]`` of one sample (``C`` of :meth:`frame_size`): counts in the smallest
        unsigned dtype, or float16/float32 for the float modes; errors name ``sample``.

        Validates the events, runs the filters, slices them by the mode, then counts (or calls the
        plugin or kernel). ``validated=True`` says the events were checked sorted and inside
        ``sensor_size`` before (read from an events store): counting without filters then skips the
        ``t`` order check (:func:`~eventpipe.frames.accumulate.accumulate`).
        """
        size = SensorSize.parse(sensor_size)
        ev = as_event_array(events, size, sample)
        if self.filters:
            ev = self.filter_chain(ev)
        mode = self.mode
        if self.plugin is not None:
            check(ev, size, sample)
            return self.plugin(ev, size, sample, self.frames_dtype)
        if mode == "voxel_grid":
            check(ev, size, sample)
            return float_frames(representations.voxel_grid(ev, size, self.voxel_grid), self._float_dtype)  # type: ignore[arg-type]
        starts, stops = self.slices(ev["t"])
        if mode == "time_surface":
            check(ev, size, sample)
            surfaces = representations.time_surface(ev, size, stops, self.time_surface, self.tau)  # type: ignore[arg-type]
            return float_frames(surfaces, self._float_dtype)
        if mode == "exp_decay":
            check(ev, size, sample)
            decayed = representations.exp_decay(ev, size, starts, stops, self.exp_decay, self.overlap, self.tau)  # type: ignore[arg-type]
            return float_frames(decayed, self._float_dtype)
        counts = accumulate(ev, size, starts, stops, sample, validated=validated and not self.filters)
        if mode == "bina_rep":
            return float_frames(representations.bina_rep(counts, self.bina_rep, self.n_bits), self._float_dtype)  # type: ignore[arg-type]
        return counts

    @property
    def _float_dtype(self) -> str:
        return self.frames_dtype or "auto"


_UNITS_US = {"us": 1, "µs": 1, "ms": 1_000, "s": 1_000_000}
DURATION_KEYS = ("duration_us", "time_window", "time_surface", "exp_decay", "tau")
"""Options in µs that also take a number with a unit (``"10ms"``)."""
CLI_FLAGS = {"fn": "--integrate", "duration_us": "--duration"}
"""Command-line flags that are not ``--`` + the option name with dashes."""
_DEFAULTS: dict[str, Any] = {"split_by": "number", "drop_incomplete": False, "overlap": 0, "include_incomplete": False,
                             "n_bits": 8, "duration_rule": "aligned"}
OPTIONS = (*MODE_ARGUMENTS, *_OPTIONS)
"""Every integration option, by its field name."""


def parse_duration(name: str, value: Any) -> Any:
    """A duration in whole µs from a string with a unit (``us``/``µs``, ``ms``, ``s``); ints are µs already.

    Non-strings are returned unchanged for :class:`IntegrationSpec` to check with its own message.

    >>> parse_duration("duration_us", "10ms"), parse_duration("duration_us", "500us"), parse_duration("t", "1.5s")
    (10000, 500, 1500000)
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*(us|µs|ms|s)", text)
    if match is None:
        raise ConfigError(
            f"Expected {name} as a number with a unit in {{us, ms, s}}, e.g. 10ms. "
            f"Got {value!r} instead.")
    us = float(match.group(1)) * _UNITS_US[match.group(2)]
    if us < 1 or us != int(us):
        raise ConfigError(f"Expected {name} to be a whole number of microseconds >= 1. Got {value!r} ({us:g} µs).")
    return int(us)


def format_duration(us: int) -> str:
    """``10000`` -> ``"10ms"``: the shortest exact form with a unit."""
    if us % 1_000_000 == 0:
        return f"{us // 1_000_000}s"
    if us % 1000 == 0:
        return f"{us // 1000}ms"
    return f"{us}us"


def integration_spec(options: Mapping[str, Any], *, spec: IntegrationSpec | None = None,
                     required: bool = False) -> IntegrationSpec | None:
    """The :class:`IntegrationSpec` of ``options`` (field names; ``None`` and default values ignored).

    Every surface builds its spec here. A ready ``spec`` is returned as it is, and then no option may
    be given. No mode and no option gives None (raw events), unless ``required``. Unknown names,
    several modes, an option of another mode and bad values are :class:`~eventpipe.errors.ConfigError`
    with the same message from every surface.
    """
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"Unknown integration option(s) {unknown}. Valid options are {sorted(OPTIONS)}.")
    given = {k: parse_duration(k, v) if k in DURATION_KEYS else v for k, v in options.items()
             if v is not None and not (k in _DEFAULTS and _same(v, _DEFAULTS[k]))
             and not (k == "filters" and _no_filters(v))}
    if spec is not None:
        if not isinstance(spec, IntegrationSpec):
            raise ConfigError(f"Expected spec as an IntegrationSpec. Got {type(spec).__name__} instead.")
        if given:
            raise ConfigError(f"Pass either spec= or integration options, not both; got spec= and {sorted(given)}.")
        return spec
    if not given and not required:
        return None
    return IntegrationSpec(**given)


def _filter_durations(description: Any) -> Any:
    """``description`` with every filter time given with a unit (``"10ms"``) in whole µs; anything
    that is not a list of tables is left for :func:`filter_chain` to refuse."""
    if isinstance(description, FilterChain) or not isinstance(description, (list, tuple)):
        return description
    return [{k: parse_duration(f"filters[{i}] {k}", v) if k in TIME_ARGUMENTS else v for k, v in item.items()}
            if isinstance(item, Mapping) else item for i, item in enumerate(description)]


def _no_filters(value: Any) -> bool:
    """An empty list or chain of filters, the default; any other value is the spec's to check."""
    return (isinstance(value, FilterChain) and not value) or (isinstance(value, (list, tuple)) and not value)


def _same(value: Any, default: Any) -> bool:
    return isinstance(value, bool) == isinstance(default, bool) and value == default


