"""Distributed data parallel set-up for ``torchrun``, and the reductions metrics need.

``torchrun --nproc_per_node N -m eventpipe train ...`` starts N processes with ``RANK``, ``WORLD_SIZE``
and ``LOCAL_RANK`` in the environment; :func:`init_distributed` joins them into one process group
(NCCL on CUDA, gloo on CPU). Without those variables everything here is a no-op for one process.

Rank 0 prepares missing data while the other ranks wait at a barrier (torch's default timeout, 30
minutes); for a large dataset run ``eventpipe prepare`` once before launching ``torchrun``.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import os
import sys
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from eventpipe.errors import ConfigError


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job: ``rank`` of ``world_size``, ``local_rank`` on its node."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"environment variable {name}: expected an integer, got {value!r}") from None


def init_distributed(device: torch.device) -> DistContext:
    """Join the process group that ``torchrun`` describes in the environment (or stay single).

    Uses NCCL when ``device`` is CUDA and gloo otherwise. The group is created once per process and
    reused by later calls (several trainings in one script), then torn down when the process exits
    (see :func:`_teardown`): creating a second default group on the same ``torchrun`` store can hang.
    """
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1:
        return DistContext()
    local_rank = _env_int("LOCAL_RANK", 0)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=_env_int("RANK", 0), world_size=world)
        atexit.register(_teardown)
    return DistContext(rank=dist.get_rank(), world_size=dist.get_world_size(), local_rank=local_rank)


EXIT_BARRIER_TIMEOUT = _dt.timedelta(minutes=5)
"""How long a rank that exits cleanly waits at exit for the others (gloo) before closing its connections."""

_failed = False


def note_failure() -> None:
    """Mark this process as failed: at exit it closes its connections without waiting for the other ranks,
    which may be blocked in a collective that it will never join (``torchrun`` then stops them)."""
    global _failed
    _failed = True


def _teardown() -> None:
    """At exit: wait for every rank, then destroy the process group.

    Without the barrier a fast rank closes its connections while a slow one still uses them, and gloo's
    threads in the slow rank abort the process. The barrier is skipped after a failure, in
    :func:`train` (:func:`note_failure`) or anywhere else in the script (an uncaught exception).
    """
    if not dist.is_initialized():
        return
    try:
        if not _failed and getattr(sys, "last_value", None) is None:
            if dist.get_backend() == "gloo":
                dist.monitored_barrier(timeout=EXIT_BARRIER_TIMEOUT)
            else:
                dist.barrier()
    except RuntimeError as exc:  # another rank failed or left: close ours anyway
        print(f"rank {dist.get_rank()}: exit barrier failed ({str(exc).splitlines()[0]}); closing anyway",
              file=sys.stderr)
    finally:
        dist.destroy_process_group()


def all_reduce_sum(values: list[float], ctx: DistContext, device: torch.device) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (float64; identity for one process)."""
    if not ctx.distributed:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def all_reduce_tensor(t: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum of ``t`` over all ranks (in place; returned for chaining)."""
    if ctx.distributed:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def any_rank(flag: bool, ctx: DistContext, device: torch.device) -> bool:
    """True when ``flag`` is set on any rank (so all ranks stop at the same step)."""
    if not ctx.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def broadcast_object(obj: Any, ctx: DistContext) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not ctx.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(ctx: DistContext) -> None:
    if ctx.distributed:
        dist.barrier()
