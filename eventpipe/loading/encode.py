"""Encoders chosen by name, turning images in ``[0, 1]`` into ``T`` steps of input spikes on the fly.

A pipeline's ``[data] encoder`` (with ``steps``, the ``T`` of the model) names one of :data:`ENCODERS`:

- ``"poisson"``: rate coding, a spike with probability equal to the pixel at every step;
- ``"repeat"``: direct coding, the analog image at every step (the first layer acts as the encoder);
- ``"latency"``: one spike per pixel, earlier for brighter pixels (linear time to first spike);
- ``"weighted_phase"``: Kim et al.'s weighted spikes (:class:`WeightedPhaseInput`): the pixel as
  :data:`PHASES` binary digits, phase ``k`` (0-based) of each period carrying bit ``k`` with its
  weight ``2^-(k+1)``, so one period sums to the pixel (truncated); ``steps`` is a whole number of periods.

The encoders work on a single image ``[C, H, W]`` or a batch ``[N, C, H, W]`` on any device and put
the time axis first. Random ones draw from ``generator`` when given, else from torch's global generator.
The trainer encodes whole batches once they are on its device (:class:`eventpipe.train.data.EncodeImages`),
from a generator seeded per run, epoch and batch, so runs repeat and resumed runs draw the same spikes.
"""

from __future__ import annotations

import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn.encoding import LatencyEncoder, PoissonEncoder, RepeatEncoder, WeightedPhaseEncoder

ENCODERS = ("poisson", "repeat", "latency", "weighted_phase")
PHASES = 8
"""Bits per period of the weighted phase encoder (pixels are 8-bit)."""

__all__ = ["ENCODERS", "PHASES", "WeightedPhaseInput", "check_encoder", "make_encoder"]


class WeightedPhaseInput(nn.Module):
    """Weighted phase coding for a network whose first layer does not weight the phases itself.

    The bits of :class:`eventpipe.snn.encoding.WeightedPhaseEncoder` (``phases`` binary digits of the
    input, truncated) times the weight ``2^-(k+1)`` of their phase ``k``, repeated for
    ``steps // phases`` periods: one period sums to the input. Inputs are clamped to
    ``[0, 1 - 2^-phases]`` first.

    >>> WeightedPhaseInput(steps=4, phases=4)(torch.tensor([0.75])).squeeze(1).tolist()
    [0.5, 0.25, 0.0, 0.0]
    """

    def __init__(self, steps: int, phases: int = PHASES) -> None:
        super().__init__()
        self.bits = WeightedPhaseEncoder(K=phases)
        if not (isinstance(steps, int) and steps >= phases and steps % phases == 0):
            raise ConfigError(f"Expected steps as a whole number of periods of {phases} phases "
                              f"({phases}, {2 * phases}, ...). Got {steps!r} instead.")
        self.steps = steps
        self.phases = phases

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bits = self.bits.encode(x.clamp(0.0, 1.0 - 2.0 ** -self.phases))
        weights = 2.0 ** -torch.arange(1, self.phases + 1, device=x.device, dtype=bits.dtype)
        period = bits * weights.reshape(-1, *([1] * x.dim()))
        return period.repeat(self.steps // self.phases, *([1] * x.dim()))

    def extra_repr(self) -> str:
        return f"steps={self.steps}, phases={self.phases}"


def check_encoder(name: str, steps: int) -> None:
    """Raise :class:`ConfigError` for an unknown encoder name or steps it cannot use."""
    make_encoder(name, steps)


def make_encoder(name: str, steps: int, generator: torch.Generator | None = None) -> nn.Module:
    """The encoder ``name`` (one of :data:`ENCODERS`) producing ``steps`` steps.

    Raises
    ------
    ConfigError
        An unknown name (the valid ones are listed), or ``steps`` the encoder cannot use.
    """
    if name == "poisson":
        return PoissonEncoder(steps, generator=generator)
    if name == "repeat":
        return RepeatEncoder(steps)
    if name == "latency":
        return LatencyEncoder(steps=steps)
    if name == "weighted_phase":
        return WeightedPhaseInput(steps)
    valid = ", ".join(repr(e) for e in ENCODERS)
    raise ConfigError(f"Unknown value {name!r} for argument encoder. Valid values are {{{valid}}}.")
