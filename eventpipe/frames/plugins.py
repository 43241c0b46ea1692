"""User integration functions: ``fn(events, H, W) -> [T, P, H, W]``, named or registered.

A plugin is named ``module:function`` (``module:Class.method`` works too) or by an entry point of
the ``eventpipe.integrators`` group. ``module`` is imported, running its code, and is looked up in the
current folder too (put first on ``sys.path``, as ``python -m`` does), whichever surface names it:
``--integrate``, a pipeline TOML's ``fn``, ``fn=`` of a dataset class. An entry point is declared
in the plugin's ``pyproject.toml``::

    [project.entry-points."eventpipe.integrators"]
    exp_decay = "my_package.frames:exp_decay"

``events`` is the sample as an :data:`~eventpipe.events.EVENT_DTYPE` array; functions written for
SpikingJelly, which take a dict of arrays ``{'t', 'x', 'y', 'p'}``, get that dict when their first
parameter is annotated as a dict or mapping (``def f(events: Dict, H: int, W: int)``) or when they
set ``f.events_form = "dict"``. The result is stored as counts, in the smallest unsigned integer
dtype that holds them, when it holds integers or booleans, or floats that are all whole non-negative
numbers (SpikingJelly's functions return float counts); other float results are float frames (float16
or float32, see :func:`eventpipe.frames.accumulate.float_frames`). A spec's ``frames_dtype``
(``"auto"``, ``"float16"``, ``"float32"``) stores every result as float frames of that choice.

A plugin's identity (``module:qualname`` plus the SHA-256 of its module's source) is part of the
frames-store fingerprint, so editing the plugin produces a new store instead of reusing stale frames.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import re
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from eventpipe.errors import ConfigError, UnknownNameError
from eventpipe.events import Events, SensorSize
from eventpipe.frames.accumulate import float_frames, smallest_uint
from eventpipe.registry import Registry

IntegratorFn = Callable[..., Any]
integrators: Registry[IntegratorFn] = Registry("integrator", group="eventpipe.integrators")
"""Registered integration functions; plugins join through the ``eventpipe.integrators`` entry points."""

EventsForm = Literal["array", "dict"]
_MAPPING_NAMES = frozenset({"dict", "Dict", "Mapping", "MutableMapping"})


@dataclass(frozen=True)
class Plugin:
    """A resolved integration function and its identity."""

    ref: str
    """How it was named: ``module:function`` or a registered name."""
    qualname: str
    """``module:qualname`` of the function."""
    source_sha256: str
    """SHA-256 of the source of the function's module (or of the function when that is unavailable)."""
    events_form: EventsForm
    """``"array"`` (structured events) or ``"dict"`` (SpikingJelly's dict of arrays)."""
    fn: IntegratorFn = field(compare=False, repr=False)

    @property
    def short_name(self) -> str:
        """The function's name reduced to ``[A-Za-z0-9_]`` (for store names)."""
        return re.sub(r"\W+", "_", self.qualname.rsplit(":", 1)[-1].rsplit(".", 1)[-1]).strip("_") or "fn"

    def identity(self) -> dict[str, str]:
        """What enters the frames fingerprint."""
        return {"qualname": self.qualname, "source_sha256": self.source_sha256}

    def __call__(self, events: Events, sensor_size: SensorSize, sample: str | None = None,
                 frames_dtype: str | None = None) -> np.ndarray:
        """Run the function on one sample and return its frames: unsigned counts or floats (see the module)."""
        arg: Any = events if self.events_form == "array" else {k: events[k] for k in "txyp"}
        result = self.fn(arg, sensor_size.height, sensor_size.width)
        return to_frames(result, sensor_size, self.qualname, sample, frames_dtype)


def to_frames(frames: Any, sensor_size: SensorSize, name: str, sample: str | None = None,
              frames_dtype: str | None = None) -> np.ndarray:
    """Check a plugin's result (``[T, P, H, W]``, finite, counts non-negative) and choose its dtype:
    the smallest unsigned integer for counts, float16/float32 for float frames (see the module)."""
    where = f"sample {sample}: " if sample is not None else ""
    arr = np.asarray(frames.detach().cpu() if hasattr(frames, "detach") else frames)
    expected = sensor_size.frame_shape(0)[1:]
    if arr.ndim != 4 or arr.shape[1:] != expected:
        raise ConfigError(
            f"{where}integrator {name} returned shape {arr.shape}; expected [T, P, H, W] = "
            f"[T, {', '.join(map(str, expected))}] for sensor {tuple(sensor_size)}."
        )
    if arr.dtype.kind == "b":
        arr = arr.astype(np.uint8)
    if arr.dtype.kind not in "uif":
        raise ConfigError(f"{where}integrator {name} returned dtype {arr.dtype}; expected numeric frames.")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ConfigError(f"{where}integrator {name} returned NaN or infinite values; frames must be finite.")
    if frames_dtype is not None:
        return float_frames(arr, frames_dtype)
    if arr.size == 0:
        return arr.astype(np.uint8)
    if arr.dtype.kind == "f" and not (np.all(arr == np.floor(arr)) and arr.min() >= 0):
        return float_frames(arr)
    low = arr.min()
    if low < 0:
        raise ConfigError(f"{where}integrator {name} returned a negative value {low}; counts must be >= 0.")
    return arr.astype(smallest_uint(int(arr.max())), copy=False)


def _source_sha256(fn: IntegratorFn) -> str:
    module = sys.modules.get(getattr(fn, "__module__", "") or "")
    for obj in (module, fn):
        if obj is None:
            continue
        try:
            return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()
        except (OSError, TypeError):
            continue
    code = getattr(fn, "__code__", None)
    if code is None:
        raise ConfigError(f"Cannot read the source of integrator {fn!r} to fingerprint it.")
    return hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()


def _wants_dict(fn: IntegratorFn) -> bool:
    form = getattr(fn, "events_form", None)
    if form is not None:
        if form not in ("array", "dict"):
            raise ConfigError(f"Unknown value {form!r} for {fn!r}.events_form. Valid values are {{'array', 'dict'}}.")
        return bool(form == "dict")
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if not params or params[0].annotation is inspect.Parameter.empty:
        return False
    ann = params[0].annotation
    if isinstance(ann, str):  # postponed annotations: look at the outer name, e.g. "typing.Dict[str, Any]"
        head = re.match(r"[\w.]*", ann.strip())
        return head is not None and head.group().rsplit(".", 1)[-1] in _MAPPING_NAMES
    origin = typing.get_origin(ann) or ann
    return isinstance(origin, type) and issubclass(origin, Mapping)


def _import_function(ref: str) -> IntegratorFn:
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"Expected an integrator as 'module:function'. Got {ref!r} instead.")
    if os.getcwd() not in sys.path:  # a module in the current folder, as `python -m` finds it
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"Cannot import module {module_name!r} of integrator {ref!r}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(f"Module {module_name!r} has no attribute {attr!r} (integrator {ref!r}).") from None
    return typing.cast(IntegratorFn, obj)


def _registered(name: str) -> IntegratorFn:
    """The integrator registered as ``name``; the error says how else a plugin is named."""
    try:
        return integrators.get(name)
    except UnknownNameError:
        names = integrators.names()
        known = f"the registered ones are {', '.join(map(repr, sorted(names)))}" if names else "none is registered"
        raise UnknownNameError(
            f"Unknown integrator {name!r}: name a plugin as 'module:function' (e.g. {name}:my_frames for "
            f"def my_frames(events, H, W) in {name}.py) or as a registered integrator ({known})."
        ) from None


def load_plugin(ref: str | IntegratorFn) -> Plugin:
    """Resolve ``module:function``, a registered/entry-point name, or a callable into a :class:`Plugin`.

    Raises
    ------
    ConfigError
        The module cannot be imported, the attribute is missing or not callable.
    UnknownNameError
        ``ref`` has no ``:`` and is not a registered integrator (the message lists the valid names).
    """
    if callable(ref):
        fn = ref
    elif isinstance(ref, str) and ":" in ref:
        fn = _import_function(ref)
    elif isinstance(ref, str):
        fn = _registered(ref)
    else:
        raise ConfigError(f"Expected fn as a callable, 'module:function' or a registered name. Got {ref!r} instead.")
    if not callable(fn):
        raise ConfigError(f"Integrator {ref!r} resolves to {fn!r}, which is not callable.")
    qualname = f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', type(fn).__qualname__)}"
    return Plugin(
        ref=ref if isinstance(ref, str) else qualname,
        qualname=qualname,
        source_sha256=_source_sha256(fn),
        events_form="dict" if _wants_dict(fn) else "array",
        fn=fn,
    )
