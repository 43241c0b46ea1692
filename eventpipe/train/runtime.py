"""Process-level settings of a run: device, seeds, determinism, graceful stop on SIGINT/SIGTERM."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import numpy as np
import torch

from eventpipe.errors import ConfigError


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA (this process's ``local_rank`` GPU) when available, else CPU; ``cuda`` likewise."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(f"train.device={name!r} but CUDA is not available here; use 'cpu' or 'auto'")
    if name == "cuda":
        return torch.device("cuda", local_rank)
    device = torch.device(name)
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise ConfigError(
            f"train.device={name!r} but only {torch.cuda.device_count()} CUDA device(s) are visible"
        )
    return device


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's (all devices) global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def seed_worker(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: seed NumPy/Python from the worker's torch seed; leave signals to the parent.

    Workers ignore SIGINT/SIGTERM so that Ctrl-C reaches only the training process, which finishes
    its step and saves a checkpoint; the workers are then shut down by the DataLoader.
    """
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)
    with contextlib.suppress(ValueError):  # not the main thread of the worker
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


@contextlib.contextmanager
def determinism(enabled: bool, device: torch.device) -> Iterator[None]:
    """Deterministic algorithms (and no cuDNN autotuning) inside the block when ``enabled``; restored after.

    On CUDA, cuBLAS needs ``CUBLAS_WORKSPACE_CONFIG`` for reproducible results; it is set inside the
    block if absent and removed again after, so a caller's process keeps its environment.
    """
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    prev_bench = torch.backends.cudnn.benchmark
    set_workspace = enabled and device.type == "cuda" and "CUBLAS_WORKSPACE_CONFIG" not in os.environ
    if set_workspace:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"
    torch.use_deterministic_algorithms(enabled, warn_only=True)
    torch.backends.cudnn.benchmark = device.type == "cuda" and not enabled
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)
        torch.backends.cudnn.benchmark = prev_bench
        if set_workspace:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)


class StopRequest:
    """Turns SIGINT/SIGTERM into a flag the training loop polls between steps.

    The first signal asks the loop to stop at the next step boundary (it then saves ``latest``); a
    second Ctrl-C raises ``KeyboardInterrupt`` at once. Handlers are only installed from the main
    thread and are restored on exit. They are installed also where SIGINT was inherited as ignored
    (a background job of a shell script): a SIGINT sent to the training process is meant for it, and
    stopping cleanly is never worse than being killed later without a checkpoint.
    """

    def __init__(self, notify: Callable[[str], None] | None = None) -> None:
        self.requested = False
        self._notify = notify
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        if self._notify is not None:
            name = signal.Signals(signum).name
            self._notify(f"{name}: stopping after this step and saving the latest checkpoint "
                         "(press Ctrl-C again to abort at once)")

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()


def autocast_dtype(device: torch.device) -> torch.dtype:
    """Mixed-precision compute type: float16 on CUDA, bfloat16 on CPU."""
    return torch.float16 if device.type == "cuda" else torch.bfloat16


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA out-of-memory errors and failed CPU allocations."""
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)
