"""Build a model of :mod:`eventpipe.snn.models` or :mod:`eventpipe.snn.zoo` from the ``[model]`` section.

The section names the model (a class of :mod:`eventpipe.snn.models` such as ``DVSGestureNet``, or a family
of :mod:`eventpipe.snn.zoo` by its lower-case name such as ``sew_resnet18``) and mixes four kinds of keys,
told apart by signature:

* neuron choice: ``neuron`` (``plif``, ``lif``, ``if``), ``surrogate`` (``atan``, ``sigmoid``, ...) with
  optional ``surrogate_alpha``, and any argument of that neuron class (``init_tau``, ``tau``,
  ``detach_reset``, ``v_threshold``, ``v_reset`` (``"none"`` for a soft reset), ``decay_input``);
* ``backend`` (``auto``, ``torch``, ``cupy``);
* ``pretrained``: a local file with an ANN state dict (torchvision's key names) loaded into the conv,
  linear and batch-norm layers after the model is built, and ``pretrained_skip``: layers to leave at their
  initialisation (``["fc"]`` for another number of classes, ``["conv1"]`` for 2-polarity frames);
* everything else is an argument of the model class (``channels``, ``blocks``, ``hidden``, ``dropout``, ...).

``num_classes`` and the input geometry (``in_channels`` and ``input_size`` of conv nets, ``in_features``
of fully connected ones) come from the data unless the section sets them.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from eventpipe.errors import ConfigError, DataNotFoundError, UnknownNameError
from eventpipe.train.config import ModelConfig

NEURON_KEYS = ("neuron", "surrogate", "surrogate_alpha")
PRETRAINED_KEYS = ("pretrained", "pretrained_skip")
DEFAULT_NEURON = "plif"
DEFAULT_SURROGATE = "atan"


def model_classes() -> dict[str, type[nn.Module]]:
    """The models by name: the reference networks and MLPs by class name, the deep families by lower-case name."""
    from eventpipe.snn import mlp, models, zoo

    by_class = {name: getattr(module, name) for module in (models, mlp) for name in module.__all__}
    return {**by_class, **zoo.FAMILIES}


def neuron_classes() -> dict[str, type[nn.Module]]:
    """Neuron classes by their short name (``if``, ``lif``, ``plif``)."""
    from eventpipe.snn import neuron

    out: dict[str, type[nn.Module]] = {}
    for name in neuron.__all__:
        cls = getattr(neuron, name)
        kind = getattr(cls, "kind", "")
        if kind:
            out[kind] = cls
    return out


def _parameters(cls: type) -> dict[str, inspect.Parameter]:
    """Keyword-settable ``__init__`` parameters of ``cls``, following ``**kwargs`` into base classes."""
    params: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        sig = inspect.signature(init)
        forwards = False
        for p in list(sig.parameters.values())[1:]:
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                forwards = True
            elif p.kind is not inspect.Parameter.VAR_POSITIONAL:
                params.setdefault(p.name, p)
        if not forwards:
            break
    return params


def _plain(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def resolve_model_kwargs(cfg: ModelConfig) -> tuple[type[nn.Module], dict[str, Any]]:
    """The model class and its keyword arguments (neuron class and neuron arguments resolved).

    Cheap (nothing is instantiated), so configs are checked before any data is prepared.

    Raises
    ------
    UnknownNameError
        Unknown model, neuron or surrogate name (the valid ones are listed).
    ConfigError
        A key that is neither a model nor a neuron argument (named, with the valid keys).
    """
    from eventpipe.snn.surrogate import surrogate_from_name

    zoo = model_classes()
    if cfg.name not in zoo:
        valid = ", ".join(repr(n) for n in sorted(zoo))
        raise UnknownNameError(f"Unknown value {cfg.name!r} for model.name. Valid values are {{{valid}}}.")
    cls = zoo[cfg.name]
    pretrained_settings(cfg)
    kwargs = {k: _plain(v) for k, v in cfg.kwargs.items() if k not in PRETRAINED_KEYS}

    neurons = neuron_classes()
    neuron_name = str(kwargs.pop("neuron", DEFAULT_NEURON)).lower()
    if neuron_name not in neurons:
        valid = ", ".join(repr(n) for n in sorted(neurons))
        raise UnknownNameError(f"Unknown value {neuron_name!r} for model.neuron. Valid values are {{{valid}}}.")
    neuron_cls = neurons[neuron_name]
    alpha = kwargs.pop("surrogate_alpha", None)
    surrogate = surrogate_from_name(str(kwargs.pop("surrogate", DEFAULT_SURROGATE)), alpha=alpha)

    model_params = _parameters(cls)
    neuron_params = _parameters(neuron_cls)
    neuron_kwargs: dict[str, Any] = {"surrogate_function": surrogate, "detach_reset": True}
    model_kwargs: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in ("neuron_kwargs", "surrogate_function"):
            raise ConfigError(f"model.{key}: set neuron arguments directly in [model] (e.g. detach_reset, init_tau)")
        if key in model_params and key != "neuron":
            model_kwargs[key] = value
        elif key in neuron_params and key != "backend":
            neuron_kwargs[key] = None if key == "v_reset" and str(value).lower() == "none" else value
        else:
            keys = sorted((set(model_params) | set(neuron_params) | set(NEURON_KEYS) | set(PRETRAINED_KEYS))
                          - {"neuron_kwargs", "surrogate_function", "options"})
            raise ConfigError(
                f"model.{key}: not an argument of {cfg.name} or of its neuron {neuron_cls.__name__} "
                f"(valid keys: {', '.join(keys)})"
            )
    if "neuron" in model_params:
        model_kwargs["neuron"] = neuron_cls
    if "neuron_kwargs" in model_params:
        model_kwargs["neuron_kwargs"] = neuron_kwargs
    return cls, model_kwargs


def pretrained_settings(cfg: ModelConfig) -> tuple[Path | None, tuple[str, ...]]:
    """The checked ``pretrained`` file (``None`` without one) and ``pretrained_skip`` layers of ``cfg``.

    Raises
    ------
    ConfigError
        ``pretrained`` is not a path string, ``pretrained_skip`` not a list of layer names, or given alone.
    DataNotFoundError
        The ``pretrained`` file does not exist (relative paths are taken from the working directory).
    """
    path, skip = cfg.kwargs.get("pretrained"), cfg.kwargs.get("pretrained_skip", ())
    if not (isinstance(skip, (list, tuple)) and all(isinstance(s, str) and s for s in skip)):
        raise ConfigError(f"model.pretrained_skip: expected a list of layer names such as [\"fc\"]. Got {skip!r}.")
    if path is None:
        if skip:
            raise ConfigError("model.pretrained_skip: only meaningful with model.pretrained (an ANN state dict file)")
        return None, ()
    if not (isinstance(path, str) and path):
        raise ConfigError(f"model.pretrained: expected the path of a local ANN state dict file. Got {path!r}.")
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataNotFoundError(f"model.pretrained: {file}: no such file; give the path of an ANN state dict saved "
                                f"with torch.save(model.state_dict(), path)")
    return file, tuple(skip)


def build_model(cfg: ModelConfig, *, num_classes: int, sample: torch.Tensor | None = None) -> nn.Module:
    """Instantiate ``cfg.name`` with its keyword arguments; input geometry from ``sample`` ``[T, P, H, W]``.

    With ``pretrained``, the ANN weights are loaded into the new model
    (:func:`eventpipe.snn.zoo.pretrained.load_ann_state_dict`).

    Raises the errors of :func:`resolve_model_kwargs` and of the loading, and :class:`ConfigError` when the
    class rejects the arguments.
    """
    from eventpipe.snn.zoo.pretrained import load_ann_state_dict

    cls, model_kwargs = resolve_model_kwargs(cfg)
    _infer_geometry(model_kwargs, _parameters(cls), num_classes, sample)
    try:
        model = cls(**model_kwargs)
    except TypeError as exc:
        raise ConfigError(f"[model] {cfg.name}: {exc}") from None
    path, skip = pretrained_settings(cfg)
    if path is not None:
        load_ann_state_dict(model, path, skip=skip, name=cfg.name)
    return model


def _infer_geometry(kwargs: dict[str, Any], params: Mapping[str, inspect.Parameter], num_classes: int,
                    sample: torch.Tensor | None) -> None:
    """Fill ``num_classes`` and input geometry the config leaves out."""
    if "num_classes" in params:
        kwargs.setdefault("num_classes", num_classes)
    if sample is None:
        return
    shape = tuple(int(s) for s in sample.shape[1:])  # drop T
    if len(shape) == 3:
        p, h, w = shape
        if "in_channels" in params:
            kwargs.setdefault("in_channels", p)
        if "input_size" in params:
            kwargs.setdefault("input_size", h if h == w else (h, w))
    if "in_features" in params:
        n = 1
        for s in shape:
            n *= s
        kwargs.setdefault("in_features", n)
