"""Training checkpoints: written atomically, read back with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts (nothing pickled beyond
that), so loading one never executes code:

``format``, ``format_version``, ``eventpipe_version``, ``torch_version``
``config``: the pipeline as :meth:`TrainConfig.to_dict` (plain JSON-able dict)
``epoch``: epochs completed; ``step``: batches completed in epoch ``epoch`` (0 at an epoch boundary)
``partial``: the running sums of that unfinished epoch (``loss_sum``, ``correct``, ``count``, ``seconds``)
``model``, ``optimizer``, ``scheduler``, ``scaler``: state dicts
``best_accuracy``, ``best_epoch``, ``history`` (one metrics dict per finished epoch), ``classes``
``rng``: Python, NumPy and torch (CPU and CUDA) random states
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from eventpipe._version import __version__
from eventpipe.errors import DataNotFoundError, StoreSchemaError

FORMAT = "eventpipe-checkpoint"
FORMAT_VERSION = 1
LATEST = "latest.pt"
BEST = "best.pt"


def rng_state() -> dict[str, Any]:
    """Every random generator training touches, as plain lists and tensors."""
    version, mt, gauss = random.getstate()
    np_state = cast(tuple[Any, ...], np.random.get_state(legacy=True))
    state: dict[str, Any] = {
        "python": [version, list(mt), gauss],
        "numpy": [np_state[0], torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)), int(np_state[2]),
                  int(np_state[3]), float(np_state[4])],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured (CUDA states only when CUDA is in use)."""
    version, mt, gauss = state["python"]
    random.setstate((int(version), tuple(int(v) for v in mt), gauss))
    name, key, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((str(name), key.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached)))
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def new_checkpoint(**fields: Any) -> dict[str, Any]:
    """A checkpoint dict with the format header and this library's and torch's versions."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "eventpipe_version": __version__,
        "torch_version": str(torch.__version__),
        **fields,
    }


def save_checkpoint(path: str | Path, checkpoint: dict[str, Any]) -> Path:
    """Write ``checkpoint`` to ``path`` atomically (a crash mid-write never leaves a torn file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(checkpoint, tmp)
    os.replace(tmp, path)
    return path


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file from a file path, a run folder (its ``checkpoints/latest.pt``) or a checkpoints folder."""
    path = Path(path).expanduser()
    for candidate in (path, path / "checkpoints" / LATEST, path / LATEST):
        if candidate.is_file():
            return candidate
    raise DataNotFoundError(
        f"no checkpoint at {path} (expected a .pt file or a run folder holding checkpoints/{LATEST})"
    )


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``) and check its format.

    Raises
    ------
    DataNotFoundError
        Nothing at ``path``.
    StoreSchemaError
        The file is not an eventpipe checkpoint, or of a newer format version.
    """
    file = resolve_checkpoint(path)
    try:
        ckpt = torch.load(file, map_location=map_location, weights_only=True)
    except Exception as exc:  # unpickling errors have many types
        raise StoreSchemaError(f"{file}: not a readable checkpoint: {exc}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise StoreSchemaError(f"{file}: not an eventpipe checkpoint (no format={FORMAT!r} header)")
    if int(ckpt.get("format_version", 0)) > FORMAT_VERSION:
        raise StoreSchemaError(
            f"{file}: checkpoint format version {ckpt['format_version']} is newer than this eventpipe "
            f"({__version__}) reads (<= {FORMAT_VERSION}); upgrade eventpipe"
        )
    ckpt["path"] = str(file)
    return ckpt
