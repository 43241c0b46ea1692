"""The transform protocol: parameters drawn once per sample, then applied deterministically."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch


class Transform:
    """Base of eventpipe's transforms (subclasses are frozen dataclasses).

    ``make_params(sample, generator)`` draws every random number a call needs, once per sample, and
    ``transform(sample, params)`` applies them deterministically (the split of torchvision's
    transforms v2). The same parameters therefore act on the frames and on the label: called as
    ``t(sample, target)`` a transform returns ``(sample, target)`` and may change the label
    consistently (a mirrored gesture, say); called as ``t(sample)`` it returns the sample.

    Random numbers come from ``generator`` when given, else from torch's global generator, which
    ``torch.manual_seed`` and each DataLoader worker's seed control.
    """

    def make_params(self, sample: Any, generator: torch.Generator | None) -> dict[str, Any]:
        """Draw this call's random parameters (none by default)."""
        return {}

    def transform(self, sample: Any, params: dict[str, Any]) -> Any:
        """Apply the transform with fixed ``params``."""
        raise NotImplementedError

    def transform_target(self, target: Any, params: dict[str, Any]) -> Any:
        """The label after the transform (unchanged by default)."""
        return target

    def __call__(self, sample: Any, *target: Any, generator: torch.Generator | None = None) -> Any:
        """Do not override: draw parameters once, then apply them to the sample (and the target)."""
        if len(target) > 1:
            raise TypeError(f"{type(self).__name__} takes a sample and at most one target; got {1 + len(target)} inputs.")
        params = self.make_params(sample, generator)
        out = self.transform(sample, params)
        if not target:
            return out
        return out, self.transform_target(target[0], params)


def uniform(generator: torch.Generator | None) -> float:
    """One draw from U[0, 1)."""
    return float(torch.rand((), generator=generator))


def randint(low: int, high: int, generator: torch.Generator | None) -> int:
    """One integer from ``[low, high]`` inclusive."""
    return int(torch.randint(low, high + 1, (), generator=generator))


@dataclass(frozen=True)
class Compose(Transform):
    """Apply ``transforms`` in order; each draws its own parameters. Accepts plain callables too."""

    transforms: Sequence[Callable[..., Any]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "transforms", tuple(self.transforms))

    def __call__(self, sample: Any, *target: Any, generator: torch.Generator | None = None) -> Any:
        if len(target) > 1:
            raise TypeError(f"Compose takes a sample and at most one target; got {1 + len(target)} inputs.")
        for t in self.transforms:
            if isinstance(t, Transform):
                if target:
                    sample, tgt = t(sample, target[0], generator=generator)
                    target = (tgt,)
                else:
                    sample = t(sample, generator=generator)
            else:
                sample = t(sample)
        return (sample, target[0]) if target else sample
