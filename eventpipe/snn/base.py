"""The step-mode mixin shared by neurons and layer wrappers.

``step_mode="m"`` (multi-step, the default): a module takes a whole sequence ``[T, N, ...]`` per call and
keeps no state between calls. ``step_mode="s"`` (single-step, for streaming): a module takes one step
``[N, ...]`` per call and deliberately carries its state until :meth:`StepModule.reset`
(:func:`eventpipe.snn.functional.reset_net` resets a whole network).
"""

from __future__ import annotations

from eventpipe.errors import ConfigError

__all__ = ["STEP_MODES", "StepModule"]

STEP_MODES = ("s", "m")


class StepModule:
    """Mixin for ``torch.nn.Module`` subclasses with a ``step_mode`` (``"s"`` or ``"m"``)."""

    supported_step_modes: tuple[str, ...] = STEP_MODES
    _step_mode: str = "m"

    @property
    def step_mode(self) -> str:
        """``"m"``: ``[T, N, ...]`` per call, stateless; ``"s"``: ``[N, ...]`` per call, state carried."""
        return self._step_mode

    @step_mode.setter
    def step_mode(self, mode: str) -> None:
        if mode not in self.supported_step_modes:
            raise ConfigError(
                f"Unknown value {mode!r} for argument step_mode of {type(self).__name__}. "
                f"Valid values are {set(self.supported_step_modes)}."
            )
        self._step_mode = mode

    def reset(self) -> None:
        """Forget the state carried in single-step mode (a no-op for stateless modules)."""

    def detach(self) -> None:
        """Cut the carried state from the autograd graph (truncated BPTT in streaming use)."""
