"""Training pipeline configuration: frozen dataclasses, validated where they are built.

A pipeline is a TOML file (``pipelines/*.toml``) with top-level ``name`` and ``description`` and one
table per section::

    name = "demo"
    [data]       dataset, the integration options of eventpipe.frames.integration_spec (frames + split_by |
                 duration_us | events_per_frame | fn | n_time_bins | event_count | time_window, ...) or, for a
                 static image dataset, encoder (poisson | repeat | latency | weighted_phase) + steps,
                 batch_size, eval_batch_size, workers, train_split, test_split, limit_train, limit_test, root,
                 on_the_fly (read events and integrate each batch on the device: no frames store)
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from eventpipe.config import Table, load_toml, loads_value
from eventpipe.errors import ConfigError
from eventpipe.frames.spec import OPTIONS as INTEGRATION_OPTIONS
from eventpipe.frames.spec import IntegrationSpec, integration_spec

SECTIONS = ("data", "model", "optimizer", "schedule", "loss", "train")
TOP_LEVEL_KEYS = ("name", "description")


def _keys(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


MODE_KEYS = ("frames", "duration_us", "events_per_frame", "fn", "n_time_bins", "event_count", "time_window")
"""The ``[data]`` keys that choose the integration mode; an override of one replaces the file's."""
ENCODER_KEYS = ("encoder", "steps")
"""The ``[data]`` keys of a static dataset's encoder; an override of a mode drops them, and the reverse."""


@dataclass(frozen=True)
class DataConfig:
    """Which dataset, how its events become frames, and how batches are loaded.

    The integration is given by the options of :func:`eventpipe.frames.integration_spec`, as keys of
    ``[data]``: exactly one mode (``frames`` with ``split_by``, ``duration_us`` as µs or ``"10ms"``,
    ``events_per_frame`` with ``drop_incomplete``, ``fn`` as ``"module:function"`` or a registered
    integrator, tonic's ``n_time_bins``, ``event_count``, ``time_window`` with ``overlap`` and
    ``include_incomplete``). Variable-T modes are padded and masked per batch.
    A static image dataset (``mnist``, ``cifar10``, ``demo-static``, ...) takes no integration but an
    ``encoder`` (one of :data:`eventpipe.loading.encode.ENCODERS`) and ``steps`` (``T``), applied to each
    image on the fly; ``integration`` is then None.
    ``batch_size`` is the number of samples per optimisation step over all processes (split evenly across
    DDP ranks). ``limit_train``/``limit_test`` (0 = all) train on a seeded random subset. ``root`` is the
    data folder ("" = ``$EVENTPIPE_HOME``, else ``~/.cache/eventpipe``). ``on_the_fly`` reads the
    events store and integrates every batch where the model is
    (:class:`eventpipe.loading.torch_frames.TorchFrames`, the count modes only): the same frames
    as a frames store gives, and no frames store is built.
    """

    dataset: str
    integration: IntegrationSpec | None
    batch_size: int = 16
    eval_batch_size: int | None = None
    workers: int = 0
    train_split: str = "train"
    test_split: str = "test"
    limit_train: int = 0
    limit_test: int = 0
    root: str = ""
    encoder: str | None = None
    steps: int | None = None
    on_the_fly: bool = False

    @classmethod
    def parse(cls, t: Table) -> DataConfig:
        t.check_keys({*_keys(cls), *INTEGRATION_OPTIONS} - {"integration"})
        options = {k: v for k, v in t.data.items() if k in INTEGRATION_OPTIONS}
        encoder = t.string("encoder") or None
        steps = t.integer("steps", None, minimum=1)
        spec = None
        if encoder is not None:
            if options:
                t.fail("encoder", f"give either an encoder (static images) or integration options (events), "
                                  f"not both; got encoder and {sorted(options)}")
            if steps is None:
                t.fail("steps", "required with an encoder: the number of time steps T it produces")
            from eventpipe.loading.encode import check_encoder  # torch loads only for static datasets

            try:
                check_encoder(encoder, steps)
            except ConfigError as exc:
                raise ConfigError(f"{t.source}: [data]: {exc}") from None
        else:
            if steps is not None:
                t.fail("steps", "only with an encoder (static image datasets); events take integration options")
            try:
                spec = integration_spec(options, required=True)
            except ConfigError as exc:
                hint = "" if options else " (static image datasets take `encoder` and `steps` instead)"
                raise ConfigError(f"{t.source}: [data]: {exc}{hint}") from None
        on_the_fly = t.boolean("on_the_fly", False)
        if on_the_fly:
            _check_on_the_fly(t, spec)
        return cls(
            dataset=t.string("dataset", required=True),
            integration=spec,
            encoder=encoder,
            steps=steps,
            batch_size=(t.integer("batch_size", 16, minimum=1)),
            eval_batch_size=t.integer("eval_batch_size", None, minimum=1),
            workers=(t.integer("workers", 0, minimum=0)),
            train_split=t.string("train_split", "train"),
            test_split=t.string("test_split", "test"),
            limit_train=(t.integer("limit_train", 0, minimum=0)),
            limit_test=(t.integer("limit_test", 0, minimum=0)),
            root=t.string("root", ""),
            on_the_fly=on_the_fly,
        )

    def to_table(self) -> dict[str, Any]:
        """The ``[data]`` table: the integration's options inline, ``None`` values left out."""
        out = {k: v for k, v in dataclasses.asdict(self).items()
               if k != "integration" and v is not None and not (k == "on_the_fly" and not v)}
        spec = {} if self.integration is None else {
            k: v for k, v in self.integration.to_dict().items() if k != "mode"}
        return {"dataset": out.pop("dataset"), **spec, **out}


def _check_on_the_fly(t: Table, spec: IntegrationSpec | None) -> None:
    """``on_the_fly`` needs events and a count mode (what the torch integrator computes)."""
    from eventpipe.loading.torch_frames import COUNT_MODES  # torch loads only for on-the-fly runs

    if spec is None:
        t.fail("on_the_fly", "only with an event dataset and a count integration mode, not with an encoder")
    if spec.mode not in COUNT_MODES:
        t.fail("on_the_fly", f"integrates the count modes {', '.join(COUNT_MODES)} on the device; got mode "
                             f"{spec.mode}: set on_the_fly = false to read its frames store")
    if spec.duration_rule != "aligned":
        t.fail("on_the_fly", f"integrates aligned durations only; got duration_rule = {spec.duration_rule!r}: "
                             "set on_the_fly = false to read its frames store")


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
    def parse(cls, t: Table) -> ModelConfig:
        return cls(name=t.string("name", required=True), kwargs=t.values(exclude=("name",)))


OPTIMIZERS = ("adam", "adamw", "sgd")


@dataclass(frozen=True)
class OptimizerConfig:
    """Optimiser name and hyper-parameters; ``momentum`` is used by ``sgd`` only."""

    name: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9

    @classmethod
    def parse(cls, t: Table) -> OptimizerConfig:
        t.check_keys(_keys(cls))
        cfg = cls(
            name=t.string("name", "adam", choices=OPTIMIZERS),
            lr=t.number("lr", 1e-3, minimum=0.0, open_min=True),
            weight_decay=t.number("weight_decay", 0.0, minimum=0.0),
            momentum=t.number("momentum", 0.9, minimum=0.0, maximum=1.0),
        )
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
    def parse(cls, t: Table) -> ScheduleConfig:
        t.check_keys(_keys(cls))
        cfg = cls(
            name=t.string("name", "cosine", choices=SCHEDULES),
            warmup_epochs=t.integer("warmup_epochs", 0, minimum=0),
            min_lr=t.number("min_lr", 0.0, minimum=0.0),
            step_size=t.integer("step_size", 30, minimum=1),
            gamma=t.number("gamma", 0.1, minimum=0.0, maximum=1.0, open_min=True),
        )
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
    def parse(cls, t: Table) -> LossConfig:
        t.check_keys(_keys(cls))
        cfg = cls(
            name=t.string("name", "mse", choices=LOSSES),
            tet_lambda=t.number("tet_lambda", 1e-3, minimum=0.0, maximum=1.0),
            tet_phi=t.number("tet_phi", 1.0),
        )
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
    ``online``: ``"none"`` (backpropagation through time), ``"fptt"`` or ``"ottt"``: one optimizer step per
    time step, autograd memory constant in T (:mod:`eventpipe.train.online`); ``fptt_alpha`` is FPTT's
    regulariser weight, ``ottt_decay`` the presynaptic trace decay, ``ottt_per_step`` OTTT_O (a step per
    time step) rather than OTTT_A (one step per batch).
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
    online: str = "none"
    fptt_alpha: float = 0.5
    ottt_decay: float = 0.5
    ottt_per_step: bool = True

    @classmethod
    def parse(cls, t: Table) -> RunConfig:
        t.check_keys(_keys(cls))
        cfg = cls(
            epochs=t.integer("epochs", 64, minimum=1),
            seed=t.integer("seed", 0, minimum=0),
            amp=t.boolean("amp", False),
            device=t.string("device", "auto"),
            deterministic=t.boolean("deterministic", True),
            output=t.string("output", ""),
            grad_clip=t.number("grad_clip", 0.0, minimum=0.0),
            plots=t.boolean("plots", True),
            firing_rates=t.boolean("firing_rates", True),
            online=t.string("online", "none"),
            fptt_alpha=t.number("fptt_alpha", 0.5, minimum=0.0),
            ottt_decay=t.number("ottt_decay", 0.5, minimum=0.0, maximum=1.0),
            ottt_per_step=t.boolean("ottt_per_step", True),
        )
        if cfg.online not in ("none", "fptt", "ottt"):
            t.fail("online", f"unknown value {cfg.online!r}; valid values are {{'none', 'fptt', 'ottt'}}")
        if cfg.online == "fptt" and cfg.fptt_alpha <= 0:
            t.fail("fptt_alpha", f"must be > 0 for FPTT; got {cfg.fptt_alpha}")
        if cfg.online == "ottt" and cfg.ottt_decay >= 1:
            t.fail("ottt_decay", f"must be < 1 (a trace that never decays grows without bound); got {cfg.ottt_decay}")
        if not (cfg.device in ("auto", "cpu", "cuda") or _is_cuda_index(cfg.device)):
            t.fail("device", f"unknown value {cfg.device!r}; valid values are {{'auto', 'cpu', 'cuda', 'cuda:N'}}")
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
        top = Table(raw, source)
        top.check_keys((*TOP_LEVEL_KEYS, *SECTIONS))
        return cls(
            name=top.string("name", "pipeline") or "pipeline",
            description=top.string("description", ""),
            data=DataConfig.parse(top.table("data", required=True)),
            model=ModelConfig.parse(top.table("model", required=True)),
            optimizer=OptimizerConfig.parse(top.table("optimizer")),
            schedule=ScheduleConfig.parse(top.table("schedule")),
            loss=LossConfig.parse(top.table("loss")),
            train=RunConfig.parse(top.table("train")),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict of str/int/float/bool/list (JSON- and TOML-able); ``None`` values left out."""
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        for section in SECTIONS:
            obj = getattr(self, section)
            if isinstance(obj, ModelConfig):
                table = {"name": obj.name, **_plain(dict(obj.kwargs))}
            elif isinstance(obj, DataConfig):
                table = obj.to_table()
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
    return key, loads_value(value.strip())


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
        if section == "data" and value is not None and key in (*MODE_KEYS, *ENCODER_KEYS):
            # Choosing an integration mode (or an encoder) replaces the file's integration or encoder, but
            # for options also overridden.
            given = {k.partition(".")[2] for k in overrides}
            replaced = {*INTEGRATION_OPTIONS, *(ENCODER_KEYS if key in MODE_KEYS else ())}
            for other in replaced - {key} - given:
                table.pop(other, None)
    return out


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Read a pipeline TOML file, apply ``section.key`` overrides, validate.

    The pipeline ``name`` defaults to the file's stem.
    """
    path = Path(path)
    raw = load_toml(path, "pipeline file")
    raw.setdefault("name", path.stem)
    source = str(path)
    if overrides:
        raw = apply_overrides(raw, overrides)
        source = f"{path} (with overrides)"
    return TrainConfig.from_dict(raw, source=source)
