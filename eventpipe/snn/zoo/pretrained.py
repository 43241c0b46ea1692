"""Load an ANN's state dict (torchvision key names and shapes) into a spiking network.

Only the layers an ANN has are loaded: convolutions, batch norms and linear layers, found by module type,
so the neurons (and a parametric neuron's learned decay) keep their initialisation. The file is read from
the local disk with ``torch.load(..., weights_only=True)``; nothing is ever downloaded. Every key of those
layers must be in the file with the same shape, and the file must hold nothing else: a mismatch is one
error listing the missing and unexpected keys and the shape differences. ``skip`` names layers (module
paths such as ``"fc"`` or ``"conv1"``) left at their initialisation, e.g. a classifier for another number
of classes or a first convolution for 2-polarity event frames instead of RGB.
"""

from __future__ import annotations

import pickle
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

import torch
from torch import nn

from eventpipe.errors import ConfigError, DataNotFoundError, FormatError

__all__ = ["ANN_LAYERS", "ann_keys", "load_ann_state_dict", "read_state_dict"]

ANN_LAYERS: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d)
_OPTIONAL = ("num_batches_tracked",)  # batch-norm buffers absent from older torchvision files
_SHOWN = 4


def ann_keys(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state-dict entries of ``model``'s ANN layers (conv, linear, batch norm), by key."""
    owners = {name for name, m in model.named_modules() if isinstance(m, ANN_LAYERS)}
    return {key: value for key, value in model.state_dict().items() if key.rpartition(".")[0] in owners}


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict of tensors from ``path`` (``weights_only=True``), unwrapped from ``{"model": ...}`` or
    ``{"state_dict": ...}`` as training scripts save it.

    Raises
    ------
    DataNotFoundError
        ``path`` is not a file.
    FormatError
        The file is not a torch file of tensors by name.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such file; pretrained must name a local ANN state dict (.pt/.pth)")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FormatError(f"{path}: not a torch state dict readable with weights_only=True ({reason})") from None
    for wrapper in ("model", "state_dict"):
        if isinstance(data, Mapping) and isinstance(data.get(wrapper), Mapping):
            data = data[wrapper]
    if not (isinstance(data, Mapping) and data
            and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items())):
        raise FormatError(f"{path}: expected a state dict (tensors by key name, as saved by "
                          f"torch.save(model.state_dict(), path)); got a {type(data).__name__}")
    return dict(data)


def _listing(what: str, items: Iterable[str], sep: str = ", ") -> str:
    """``"3 missing keys (a, b, c)"``: the count and the first few, sorted."""
    items = sorted(items)
    shown = sep.join(items[:_SHOWN]) + (f"{sep}..." if len(items) > _SHOWN else "")
    return f"{len(items)} {what}{'' if len(items) == 1 else 'es' if what.endswith('h') else 's'} ({shown})"


def _skipped(key: str, skip: Collection[str]) -> bool:
    return any(key == s or key.startswith(s + ".") for s in skip)


def load_ann_state_dict(model: nn.Module, path: str | Path, *, skip: Collection[str] = (),
                        name: str = "") -> list[str]:
    """Copy the ANN weights in ``path`` into ``model``'s conv, linear and batch-norm layers.

    Parameters
    ----------
    model:
        The spiking network (parameter names as in the ANN, e.g. torchvision's ``layer1.0.conv1.weight``).
    path:
        A local file written by ``torch.save(ann.state_dict(), path)``.
    skip:
        Module paths (``"fc"``, ``"conv1"``, ``"classifier.6"``) whose keys are neither needed nor loaded.
    name:
        The model's name in error messages.

    Returns
    -------
    The keys loaded, sorted.

    Raises
    ------
    ConfigError
        A ``skip`` entry names no layer with weights, or the file's keys or shapes differ from the model's.
    """
    what = name or type(model).__name__
    expected = ann_keys(model)
    unknown = [s for s in skip if not any(_skipped(k, (s,)) for k in expected)]
    if unknown:
        layers = sorted({k.partition(".")[0] for k in expected})
        raise ConfigError(f"pretrained_skip: {', '.join(map(repr, unknown))} names no layer of {what} "
                          f"(top-level layers: {', '.join(layers)})")
    given = read_state_dict(path)
    wanted = {k: v for k, v in expected.items() if not _skipped(k, skip)}
    offered = {k: v for k, v in given.items() if not _skipped(k, skip)}
    missing = [k for k in wanted if k not in offered and k.rpartition(".")[2] not in _OPTIONAL]
    unexpected = [k for k in offered if k not in wanted]
    shapes = [f"{k} is {tuple(offered[k].shape)} in the file but {tuple(v.shape)} in the model"
              for k, v in wanted.items() if k in offered and offered[k].shape != v.shape]
    problems = []
    if missing:
        problems.append(_listing("missing key", missing))
    if unexpected:
        problems.append(_listing("unexpected key", unexpected))
    if shapes:
        problems.append(_listing("shape mismatch", shapes, sep="; "))
    if problems:
        hint = ("torchvision key names are expected (conv1.weight, layer1.0.conv1.weight, fc.weight; "
                "features.0.weight, classifier.0.weight); to keep layers at their initialisation (another "
                "num_classes or in_channels), list them in pretrained_skip, e.g. [\"fc\"] or [\"conv1\"]")
        raise ConfigError(f"{path}: does not fit {what}: {'; '.join(problems)}; {hint}")
    loaded = sorted(k for k in wanted if k in offered)
    with torch.no_grad():
        state = model.state_dict()
        for key in loaded:
            state[key].copy_(offered[key])
    return loaded
