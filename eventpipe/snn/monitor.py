"""Monitors: record what flows through every submodule of a given type, through forward/backward hooks.

A monitor hooks each submodule of ``net`` that is an instance of ``instance`` (default: every spiking neuron)
and appends one record per call: to ``monitor.records`` (in call order; ``monitor[i]`` is the ``i``-th)
and to ``monitor[name]`` (per layer, ``name`` as in ``net.named_modules()``). An optional function reduces
the value first (e.g. :func:`eventpipe.snn.functional.firing_rate`). Records are detached and, by default, moved to the CPU; with
``pack=True`` binary tensors (spikes) are stored as bits (``np.packbits``, exact round trip) and with
``compress=True`` zlib-compressed; :meth:`BaseMonitor.tensors` decodes them.

>>> import torch
>>> from eventpipe.snn import functional, layer, neuron
>>> net = torch.nn.Sequential(layer.Linear(4, 3), neuron.LIFNode())
>>> functional.set_step_mode(net, "m")
>>> with OutputMonitor(net, function_on_output=functional.firing_rate) as mon:
...     _ = net(torch.rand(8, 2, 4))
>>> mon.monitored_layers, len(mon["1"]), mon[0] is mon["1"][0]
(['1'], 1, True)
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from eventpipe.errors import ConfigError, UnknownNameError

__all__ = [
    "AttributeMonitor",
    "BaseMonitor",
    "GradInputMonitor",
    "GradOutputMonitor",
    "InputMonitor",
    "OutputMonitor",
    "PackedTensor",
    "pack_tensor",
]

_ModuleTypes = type[nn.Module] | tuple[type[nn.Module], ...]
"""What ``instance`` selects: one module type or several (as for ``isinstance``)."""


@dataclass(frozen=True)
class PackedTensor:
    """A tensor stored compactly: as bits (binary values only) or raw bytes, optionally zlib-compressed."""

    shape: tuple[int, ...]
    dtype: torch.dtype
    data: bytes
    bits: bool
    compressed: bool

    @property
    def nbytes(self) -> int:
        """Bytes held by the record."""
        return len(self.data)

    def unpack(self) -> torch.Tensor:
        """The original tensor (on the CPU)."""
        raw = zlib.decompress(self.data) if self.compressed else self.data
        if self.bits:
            count = int(np.prod(self.shape, dtype=np.int64))
            flat = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), count=count)
            return torch.from_numpy(flat.astype(np.bool_)).to(self.dtype).reshape(self.shape)
        if not raw:
            return torch.empty(self.shape, dtype=self.dtype)
        return (
            torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(self.dtype).reshape(self.shape).clone()
        )


def _is_binary(t: torch.Tensor) -> bool:
    return t.dtype == torch.bool or bool(((t == 0) | (t == 1)).all())


def pack_tensor(t: torch.Tensor, *, bits: bool = True, compress: bool = False) -> PackedTensor:
    """Store ``t`` compactly: bit-packed when ``bits`` and every value is 0 or 1, else as raw bytes."""
    t = t.detach().cpu().contiguous()
    as_bits = bits and _is_binary(t)
    if as_bits:
        raw = np.packbits(t.reshape(-1).ne(0).numpy()).tobytes()
    else:
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
    if compress:
        raw = zlib.compress(raw, 1)
    return PackedTensor(tuple(t.shape), t.dtype, raw, as_bits, compress)


class BaseMonitor:
    """Hooks on every submodule of ``net`` of type ``instance``; see the module docstring.

    Parameters
    ----------
    net:
        The network to watch.
    instance:
        Module type(s) to hook (default: :class:`eventpipe.snn.neuron.BaseNode`, every spiking neuron).
    function:
        Applied to each value before it is stored (e.g. a reduction to a firing rate).
    to_cpu:
        Move records to the CPU (default), so GPU memory is not held by recordings.
    pack:
        Store binary tensors as bits (32x smaller than float32); other values stay dense.
    compress:
        zlib-compress stored tensors (implies packed records).
    """

    def __init__(
        self,
        net: nn.Module,
        instance: _ModuleTypes | None = None,
        *,
        function: Callable[[Any], Any] | None = None,
        to_cpu: bool = True,
        pack: bool = False,
        compress: bool = False,
    ) -> None:
        if instance is None:
            from eventpipe.snn.neuron import BaseNode

            instance = BaseNode
        self.function = function
        self.to_cpu = to_cpu
        self.pack = pack
        self.compress = compress
        self.records: list[Any] = []
        self.monitored_layers: list[str] = []
        self._by_name: dict[str, list[Any]] = {}
        self._handles: list[Any] = []
        self._enabled = True
        for name, module in net.named_modules():
            if isinstance(module, instance):
                self.monitored_layers.append(name)
                self._by_name[name] = []
                self._handles.append(self._register(name, module))

    def _register(self, name: str, module: nn.Module) -> Any:
        raise NotImplementedError

    def _hook_gradient(self, name: str, module: nn.Module, of_input: bool) -> Any:
        """A backward hook storing the gradient w.r.t. the module's first input or output (when there is one)."""

        def hook(m: nn.Module, grad_input: Any, grad_output: Any) -> None:
            grad = (grad_input if of_input else grad_output)[0]
            if grad is not None:
                self._store(name, grad)

        return module.register_full_backward_hook(hook)

    def _store(self, name: str, value: Any) -> None:
        if not self._enabled:
            return
        if self.function is not None:
            value = self.function(value)
        if isinstance(value, torch.Tensor):
            value = value.detach()
            if self.pack or self.compress:
                value = pack_tensor(value, bits=self.pack, compress=self.compress)
            elif self.to_cpu:
                value = value.cpu()
        self.records.append(value)
        self._by_name[name].append(value)

    def __getitem__(self, name: str | int) -> Any:
        """``monitor["layer"]``: that layer's records; ``monitor[i]``: the ``i``-th record in call order."""
        if isinstance(name, int):
            return self.records[name]
        if name not in self._by_name:
            raise UnknownNameError(
                f"Unknown value {name!r} for argument layer. Valid values are {set(self.monitored_layers)}."
            )
        return self._by_name[name]

    def keys(self) -> list[str]:
        """The monitored layer names."""
        return list(self.monitored_layers)

    def tensors(self, name: str | None = None) -> list[Any]:
        """Records of one layer (or all, in call order) with packed tensors decoded."""
        records = self.records if name is None else self[name]
        return [r.unpack() if isinstance(r, PackedTensor) else r for r in records]

    @property
    def is_enabled(self) -> bool:
        """Whether hooks currently record."""
        return self._enabled

    def enable(self) -> None:
        self._enabled = True

    def disable(self) -> None:
        self._enabled = False

    def clear_recorded_data(self) -> None:
        """Drop every record (hooks stay)."""
        self.records.clear()
        for records in self._by_name.values():
            records.clear()

    def remove_hooks(self) -> None:
        """Detach from the network (records stay)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def __enter__(self) -> BaseMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove_hooks()


class OutputMonitor(BaseMonitor):
    """Records each hooked module's output (e.g. spikes ``[T, N, ...]``)."""

    def __init__(
        self,
        net: nn.Module,
        instance: _ModuleTypes | None = None,
        function_on_output: Callable[[Any], Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(net, instance, function=function_on_output, **options)

    def _register(self, name: str, module: nn.Module) -> Any:
        return module.register_forward_hook(lambda m, inputs, output: self._store(name, output))


class InputMonitor(BaseMonitor):
    """Records each hooked module's first positional input."""

    def __init__(
        self,
        net: nn.Module,
        instance: _ModuleTypes | None = None,
        function_on_input: Callable[[Any], Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(net, instance, function=function_on_input, **options)

    def _register(self, name: str, module: nn.Module) -> Any:
        return module.register_forward_hook(lambda m, inputs, output: self._store(name, inputs[0]))


class AttributeMonitor(BaseMonitor):
    """Records ``getattr(module, attribute_name)`` after (or, with ``pre_forward``, before) each call.

    For membrane potentials create the neurons with ``store_v_seq=True`` and monitor ``"v_seq"`` (after the
    reset of each step) or with ``store_h_seq=True`` and monitor ``"h_seq"`` (charged, before the spike).
    Before the first call, a neuron's ``"v"`` is recorded as the rest potential; an attribute that is still
    ``None`` is not recorded.
    """

    def __init__(
        self,
        attribute_name: str,
        net: nn.Module,
        instance: _ModuleTypes | None = None,
        pre_forward: bool = False,
        function_on_attribute: Callable[[Any], Any] | None = None,
        **options: Any,
    ) -> None:
        self.attribute_name = attribute_name
        self.pre_forward = pre_forward
        super().__init__(net, instance, function=function_on_attribute, **options)

    def _register(self, name: str, module: nn.Module) -> Any:
        if not hasattr(module, self.attribute_name):
            raise ConfigError(
                f"Module {name!r} ({type(module).__name__}) has no attribute {self.attribute_name!r}."
            )

        def read(m: nn.Module, inputs: Any, *_: Any) -> None:
            value = getattr(module, self.attribute_name)
            if value is None and self.pre_forward and hasattr(module, "rest_attribute") and inputs:
                value = module.rest_attribute(self.attribute_name, inputs[0])
            if value is not None:
                self._store(name, value)

        if self.pre_forward:
            return module.register_forward_pre_hook(read)
        return module.register_forward_hook(read)


class GradOutputMonitor(BaseMonitor):
    """Records the gradient of the loss w.r.t. each hooked module's output (last layer first)."""

    def __init__(
        self,
        net: nn.Module,
        instance: _ModuleTypes | None = None,
        function_on_grad_output: Callable[[Any], Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(net, instance, function=function_on_grad_output, **options)

    def _register(self, name: str, module: nn.Module) -> Any:
        return self._hook_gradient(name, module, of_input=False)


class GradInputMonitor(BaseMonitor):
    """Records the gradient of the loss w.r.t. each hooked module's input (none when it needs no gradient)."""

    def __init__(
        self,
        net: nn.Module,
        instance: _ModuleTypes | None = None,
        function_on_grad_input: Callable[[Any], Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(net, instance, function=function_on_grad_input, **options)

    def _register(self, name: str, module: nn.Module) -> Any:
        return self._hook_gradient(name, module, of_input=True)
