"""Training pipeline configuration: frozen dataclasses, validated where they are built.

A pipeline is a TOML file (``pipelines/*.toml``) with top-level ``name`` and ``description`` and one
table per section::

    name = "demo"
    [data]       dataset, integration (frames + split_by | duration_us | events_per_frame | integrate),
                 batch_size, eval_batch_size, workers, train_split, test_split, limit_train, limit_test, root
    [model]      name (a class of eventpipe.snn.models) and its keyword arguments (neuron, backend, channels, ...)
    [optimizer]  name (adam | adamw | sgd), lr, weight_decay, momentum
    [schedule]   name (cosine | step | constant), warmup_epochs, min_lr, step_size, gamma
    [loss]       name (mse | cross_entropy | tet), tet_lambda, tet_phi
    [train]      epochs, seed, amp, device, deterministic, output, grad_clip, plots, firing_rates

Every key can be overridden as ``section.key=value`` (``--set data.batch_size=32`` on the command line);
errors name the offending key, the value and what is allowed.

>>> cfg = TrainConfig.from_dict({"data": {"dataset": "demo", "frames": 16}, "model": {"name": "DVSGestureNet"}})
>>> cfg.data.batch_size, cfg.schedule.name
(16, 'cosine')
>>> cfg.replace_from({"data.batch_size": 32}).data.batch_size
32
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from eventpipe.errors import ConfigError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef, unused-ignore]

SECTIONS = ("data", "model", "optimizer", "schedule", "loss", "train")
TOP_LEVEL_KEYS = ("name", "description")


class _Reader:
    """Pops validated values out of one raw section, naming ``section.key`` in every error."""

    def __init__(self, raw: Mapping[str, Any], section: str, source: str) -> None:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{source}: [{section}] must be a table, got {raw!r}")
        self.raw = dict(raw)
        self.section = section
        self.source = source

    def _fail(self, key: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.source}: {self.section}.{key}: expected {expected}, got {value!r}")

    def optional_integer(self, key: str, *, minimum: int | None = None) -> int | None:
        if self.raw.get(key) is None:
            self.raw.pop(key, None)
            return None
        return self.integer(key, 0, minimum=minimum)

    def integer(self, key: str, default: int, *, minimum: int | None = None) -> int:
        value = self.raw.pop(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "an integer", value)
        if minimum is not None and value < minimum:
            raise self._fail(key, f"an integer >= {minimum}", value)
        return value

    def number(self, key: str, default: float, *, minimum: float = -math.inf, maximum: float = math.inf,
              open_min: bool = False) -> float:
        value = self.raw.pop(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self._fail(key, "a finite number", value)
        if value < minimum or value > maximum or (open_min and value == minimum):
            low = "(" if open_min else "["
            raise self._fail(key, f"a number in {low}{minimum}, {maximum}]", value)
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.pop(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value

    def text(self, key: str, default: str | None, *, choices: Sequence[str] | None = None) -> str:
        value = self.raw.pop(key, default)
        if value is None:
            raise ConfigError(f"{self.source}: {self.section}.{key} is required")
        if not isinstance(value, str):
            raise self._fail(key, "a string", value)
        if choices is not None and value not in choices:
            valid = ", ".join(repr(c) for c in choices)
            raise ConfigError(
                f"{self.source}: Unknown value {value!r} for {self.section}.{key}. Valid values are {{{valid}}}."
            )
        return value

    def rest(self) -> dict[str, Any]:
        """What was not popped (model keyword arguments)."""
        out, self.raw = self.raw, {}
        return out

    def done(self, valid: Sequence[str]) -> None:
        """Reject keys nobody read."""
        if self.raw:
            key = sorted(self.raw)[0]
            names = ", ".join(sorted(valid))
            raise ConfigError(f"{self.source}: unknown key {self.section}.{key} (valid keys: {names})")


def _keys(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


INTEGRATION_KEYS = ("frames", "duration_us", "events_per_frame", "integrate")


@dataclass(frozen=True)
class DataConfig:
    """Which dataset, how its events become frames, and how batches are loaded.

    Exactly one integration is set: ``frames`` (with ``split_by`` ``"number"`` or ``"time"``), ``duration_us``
    (frames of fixed duration in µs; variable T, padded and masked per batch), ``events_per_frame`` (with
    ``drop_incomplete``) or ``integrate`` (a plugin ``"module:function"`` or registered integrator name).
    ``batch_size`` is the number of samples per optimisation step over all processes (split evenly across
    DDP ranks). ``limit_train``/``limit_test`` (0 = all) train on a seeded random subset. ``root`` is the
    data folder ("" = ``$EVENTPIPE_HOME``, else ``~/.cache/eventpipe``).
    """

    dataset: str
    frames: int | None = None
    split_by: str = "number"
    duration_us: int | None = None
    events_per_frame: int | None = None
    drop_incomplete: bool = False
    integrate: str | None = None
    batch_size: int = 16
    eval_batch_size: int | None = None
    workers: int = 0
    train_split: str = "train"
    test_split: str = "test"
    limit_train: int = 0
    limit_test: int = 0
    root: str = ""

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str) -> DataConfig:
        r = _Reader(raw, "data", source)
        cfg = cls(
            dataset=r.text("dataset", None),
            frames=r.optional_integer("frames", minimum=1),
            split_by=r.text("split_by", "number", choices=("number", "time")),
            duration_us=r.optional_integer("duration_us", minimum=1),
            events_per_frame=r.optional_integer("events_per_frame", minimum=1),
            drop_incomplete=r.flag("drop_incomplete", False),
            integrate=r.text("integrate", "") or None,
            batch_size=r.integer("batch_size", 16, minimum=1),
            eval_batch_size=r.optional_integer("eval_batch_size", minimum=1),
            workers=r.integer("workers", 0, minimum=0),
            train_split=r.text("train_split", "train"),
            test_split=r.text("test_split", "test"),
            limit_train=r.integer("limit_train", 0, minimum=0),
            limit_test=r.integer("limit_test", 0, minimum=0),
            root=r.text("root", ""),
        )
        r.done(_keys(cls))
        chosen = [k for k in INTEGRATION_KEYS if getattr(cfg, k) is not None]
        if len(chosen) != 1:
            keys = ", ".join(f"data.{k}" for k in INTEGRATION_KEYS)
            raise ConfigError(f"{source}: [data] needs exactly one of {keys}; got {chosen or 'none'}")
        if cfg.split_by != "number" and cfg.frames is None:
            raise ConfigError(f"{source}: data.split_by applies to data.frames only, not data.{chosen[0]}")
        if cfg.drop_incomplete and cfg.events_per_frame is None:
            raise ConfigError(f"{source}: data.drop_incomplete applies to data.events_per_frame only")
        return cfg

    def integration(self) -> dict[str, Any]:
        """Keyword arguments that select the frame integration (for the datasets and ``prepare``)."""
        if self.frames is not None:
            return {"frames": self.frames, "split_by": self.split_by}
        if self.duration_us is not None:
            return {"duration_us": self.duration_us}
        if self.events_per_frame is not None:
            return {"events_per_frame": self.events_per_frame, "drop_incomplete": self.drop_incomplete}
        return {"fn": self.integrate}


@dataclass(frozen=True)
class ModelConfig:
    """A model of :mod:`eventpipe.snn.models` by class name, plus its keyword arguments.

    Keyword arguments (``neuron``, ``backend``, ``channels``, ...) are checked against the class's
    signature when the model is built, so a misspelt key is named there.
    """

    name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str) -> ModelConfig:
        r = _Reader(raw, "model", source)
        name = r.text("name", None)
        kwargs = r.rest()
        for key, value in kwargs.items():
            if isinstance(value, Mapping):
                raise ConfigError(f"{source}: model.{key}: nested tables are not model arguments, got {value!r}")
        return cls(name=name, kwargs=kwargs)


OPTIMIZERS = ("adam", "adamw", "sgd")


@dataclass(frozen=True)
class OptimizerConfig:
    """Optimiser name and hyper-parameters; ``momentum`` is used by ``sgd`` only."""

    name: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str) -> OptimizerConfig:
        r = _Reader(raw, "optimizer", source)
        cfg = cls(
            name=r.text("name", "adam", choices=OPTIMIZERS),
            lr=r.number("lr", 1e-3, minimum=0.0, open_min=True),
            weight_decay=r.number("weight_decay", 0.0, minimum=0.0),
            momentum=r.number("momentum", 0.9, minimum=0.0, maximum=1.0),
        )
        r.done(_keys(cls))
        return cfg


SCHEDULES = ("cosine", "step", "constant")


@dataclass(frozen=True)
class ScheduleConfig:
    """Learning-rate schedule, stepped once per epoch.

    ``cosine`` anneals from ``optimizer.lr`` to ``min_lr`` over the epochs after ``warmup_epochs`` (linear
    warm-up from lr / (warmup_epochs + 1)); ``step`` multiplies by ``gamma`` every ``step_size`` epochs.
    """

    name: str = "cosine"
    warmup_epochs: int = 0
    min_lr: float = 0.0
    step_size: int = 30
    gamma: float = 0.1

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str) -> ScheduleConfig:
        r = _Reader(raw, "schedule", source)
        cfg = cls(
            name=r.text("name", "cosine", choices=SCHEDULES),
            warmup_epochs=r.integer("warmup_epochs", 0, minimum=0),
            min_lr=r.number("min_lr", 0.0, minimum=0.0),
            step_size=r.integer("step_size", 30, minimum=1),
            gamma=r.number("gamma", 0.1, minimum=0.0, maximum=1.0, open_min=True),
        )
        r.done(_keys(cls))
        return cfg


LOSSES = ("mse", "cross_entropy", "tet")


@dataclass(frozen=True)
class LossConfig:
    """Loss on the model's ``[T, N, classes]`` output.

    ``mse``: mean squared error between the firing rate (mean over valid steps) and the one-hot label.
    ``cross_entropy``: cross-entropy of the firing rate taken as logits. ``tet``: temporal efficient
    training, ``(1 - tet_lambda) * mean_t CE(out_t, y) + tet_lambda * mean_t MSE(out_t, tet_phi)``.
    """

    name: str = "mse"
    tet_lambda: float = 1e-3
    tet_phi: float = 1.0

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str) -> LossConfig:
        r = _Reader(raw, "loss", source)
        cfg = cls(
            name=r.text("name", "mse", choices=LOSSES),
            tet_lambda=r.number("tet_lambda", 1e-3, minimum=0.0, maximum=1.0),
            tet_phi=r.number("tet_phi", 1.0),
        )
        r.done(_keys(cls))
        return cfg


@dataclass(frozen=True)
class RunConfig:
    """How the run goes: epochs, seed, precision, device and where results land.

    ``device``: ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    ``amp``: mixed precision (float16 with a gradient scaler on CUDA, bfloat16 on CPU).
    ``deterministic``: deterministic kernels and no cuDNN autotuning (cheap on CPU).
    ``output``: run folder ("" = ``runs/<name>-<timestamp>`` under the current directory).
    ``grad_clip``: maximum gradient norm (0 = off). ``plots``: PNGs at the end. ``firing_rates``:
    per-layer firing rates on the test set every epoch (through output monitors).
    """

    epochs: int = 64
    seed: int = 0
    amp: bool = False
    device: str = "auto"
    deterministic: bool = True
    output: str = ""
    grad_clip: float = 0.0
    plots: bool = True
    firing_rates: bool = True

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str) -> RunConfig:
        r = _Reader(raw, "train", source)
        cfg = cls(
            epochs=r.integer("epochs", 64, minimum=1),
            seed=r.integer("seed", 0, minimum=0),
            amp=r.flag("amp", False),
            device=r.text("device", "auto"),
            deterministic=r.flag("deterministic", True),
            output=r.text("output", ""),
            grad_clip=r.number("grad_clip", 0.0, minimum=0.0),
            plots=r.flag("plots", True),
            firing_rates=r.flag("firing_rates", True),
        )
        r.done(_keys(cls))
        if not (cfg.device in ("auto", "cpu", "cuda") or _is_cuda_index(cfg.device)):
            raise ConfigError(
                f"{source}: Unknown value {cfg.device!r} for train.device. "
                "Valid values are {'auto', 'cpu', 'cuda', 'cuda:N'}."
            )
        return cfg


def _is_cuda_index(device: str) -> bool:
    prefix, _, index = device.partition(":")
    return prefix == "cuda" and index.isdigit()


@dataclass(frozen=True)
class TrainConfig:
    """A whole training pipeline: the sections above plus the pipeline's ``name``."""

    data: DataConfig
    model: ModelConfig
    name: str = "pipeline"
    description: str = ""
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: RunConfig = field(default_factory=RunConfig)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, source: str = "config") -> TrainConfig:
        """Validate a nested dict (parsed TOML, or :meth:`to_dict` output); errors name the key."""
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{source}: expected a table of sections, got {raw!r}")
        unknown = sorted(set(raw) - set(SECTIONS) - set(TOP_LEVEL_KEYS))
        if unknown:
            valid = ", ".join(TOP_LEVEL_KEYS + tuple(f"[{s}]" for s in SECTIONS))
            raise ConfigError(f"{source}: unknown key {unknown[0]} (valid: {valid})")
        for section in ("data", "model"):
            if section not in raw:
                raise ConfigError(f"{source}: missing section [{section}]")
        for key in TOP_LEVEL_KEYS:
            if key in raw and not isinstance(raw[key], str):
                raise ConfigError(f"{source}: {key}: expected a string, got {raw[key]!r}")
        return cls(
            name=raw.get("name", "pipeline") or "pipeline",
            description=raw.get("description", ""),
            data=DataConfig.parse(raw["data"], source),
            model=ModelConfig.parse(raw["model"], source),
            optimizer=OptimizerConfig.parse(raw.get("optimizer", {}), source),
            schedule=ScheduleConfig.parse(raw.get("schedule", {}), source),
            loss=LossConfig.parse(raw.get("loss", {}), source),
            train=RunConfig.parse(raw.get("train", {}), source),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict of str/int/float/bool/list (JSON- and TOML-able); ``None`` values left out."""
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        for section in SECTIONS:
            obj = getattr(self, section)
            if isinstance(obj, ModelConfig):
                table = {"name": obj.name, **_plain(dict(obj.kwargs))}
            else:
                table = {k: v for k, v in dataclasses.asdict(obj).items() if v is not None}
            out[section] = table
        return out

    def replace_from(self, overrides: Mapping[str, Any], *, source: str = "override") -> TrainConfig:
        """A new config with ``section.key`` overrides applied (validated like the file)."""
        return TrainConfig.from_dict(apply_overrides(self.to_dict(), overrides), source=source)

    def to_toml(self) -> str:
        """This config as TOML text that :func:`load_config` reads back to an equal config."""
        d = self.to_dict()
        lines = [f"{k} = {_toml_value(d[k])}" for k in TOP_LEVEL_KEYS]
        for section in SECTIONS:
            lines += ["", f"[{section}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in d[section].items()]
        return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split ``section.key=value`` (from ``--set``); the value is read as TOML, else kept as a string.

    >>> parse_assignment("optimizer.lr=1e-3"), parse_assignment("model.neuron=lif")
    (('optimizer.lr', 0.001), ('model.neuron', 'lif'))
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or "." not in key or not key.split(".", 1)[1]:
        raise ConfigError(f"--set expects section.key=value (e.g. data.batch_size=32), got {text!r}")
    value = value.strip()
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return key, parsed


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of ``raw`` with each ``section.key`` (or top-level ``name``) set to its value."""
    out: dict[str, Any] = {k: dict(v) if isinstance(v, Mapping) else v for k, v in raw.items()}
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        if not key:
            if section not in TOP_LEVEL_KEYS:
                raise ConfigError(f"override {dotted!r}: expected section.key with section one of {SECTIONS}")
            out[section] = value
            continue
        if section not in SECTIONS:
            valid = ", ".join(SECTIONS)
            raise ConfigError(f"override {dotted!r}: unknown section {section!r} (valid sections: {valid})")
        table = out.setdefault(section, {})
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
        if section == "data" and value is not None and key in INTEGRATION_KEYS:
            # Choosing an integration replaces the file's one.
            for other in set(INTEGRATION_KEYS) - {key}:
                table.pop(other, None)
    return out


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Read a pipeline TOML file, apply ``section.key`` overrides, validate.

    The pipeline ``name`` defaults to the file's stem.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        from eventpipe.errors import DataNotFoundError

        raise DataNotFoundError(f"pipeline file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    raw.setdefault("name", path.stem)
    source = str(path)
    if overrides:
        raw = apply_overrides(raw, overrides)
        source = f"{path} (with overrides)"
    return TrainConfig.from_dict(raw, source=source)
