"""Backend names, ``auto`` selection and the errors of an explicit ``cupy`` where it cannot run."""

from __future__ import annotations

import pytest
import torch

from eventpipe.errors import ConfigError, EventpipeError, MissingDependencyError
from eventpipe.snn import backends, surrogate
from eventpipe.snn.cuda import backend as cuda_backend
from eventpipe.snn.dynamics import NeuronSpec
from eventpipe.snn.neuron import LIFNode

needs_no_cuda = pytest.mark.skipif(cuda_backend.is_available(), reason="CuPy and a GPU are present here")


@pytest.fixture
def pretend_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Act as if CuPy and a GPU were present (nothing is launched: inputs stay on the CPU)."""
    monkeypatch.setattr(cuda_backend, "unavailable_reason", lambda: None)
    monkeypatch.setattr(cuda_backend, "is_available", lambda: True)


def test_unknown_backend_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"Unknown value 'cuda' for argument backend\. Valid values are"):
        backends.check_backend("cuda")
    with pytest.raises(ConfigError):
        LIFNode(backend="numba")


def test_auto_picks_torch_for_cpu_tensors() -> None:
    assert backends.select_backend("auto", torch.zeros(2, 2), NeuronSpec()) == "torch"


def test_auto_picks_cupy_only_when_it_can_run(pretend_cupy: None, monkeypatch: pytest.MonkeyPatch) -> None:
    cuda_like = torch.zeros(2, 2)
    monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda self: True))
    assert backends.select_backend("auto", cuda_like, NeuronSpec()) == "cupy"
    assert backends.select_backend("auto", cuda_like.double(), NeuronSpec()) == "torch"  # no float64 kernels
    smooth = NeuronSpec(surrogate=surrogate.Sigmoid(spiking=False))
    assert backends.select_backend("auto", cuda_like, smooth) == "torch"


@needs_no_cuda
def test_explicit_cupy_without_cuda_is_a_clear_error() -> None:
    with pytest.raises(MissingDependencyError, match="backend='cupy' cannot be used") as info:
        LIFNode(backend="cupy")
    assert isinstance(info.value, EventpipeError) and isinstance(info.value, ImportError)
    with pytest.raises(MissingDependencyError):
        backends.run_multistep(torch.zeros(3, 2), NeuronSpec(), backend="cupy")
    node = LIFNode()
    with pytest.raises(MissingDependencyError):
        node.backend = "cupy"
    assert node.backend == "auto"


def test_explicit_cupy_rejects_cpu_tensors(pretend_cupy: None) -> None:
    node = LIFNode(backend="cupy")
    with pytest.raises(ConfigError, match="needs CUDA tensors"):
        node(torch.zeros(3, 2))


def test_explicit_cupy_rejects_what_the_kernels_lack(pretend_cupy: None) -> None:
    with pytest.raises(ConfigError, match="spiking=False"):
        LIFNode(backend="cupy", surrogate_function=surrogate.ATan(spiking=False))
    reason = cuda_backend.unsupported_reason(NeuronSpec(), torch.float64)
    assert reason is not None and "float64" in reason and "float32" in reason


def test_run_multistep_validates_shapes() -> None:
    with pytest.raises(ConfigError, match="at least 2 dimensions"):
        backends.run_multistep(torch.zeros(5), NeuronSpec())
    with pytest.raises(ConfigError, match="floating-point"):
        backends.run_multistep(torch.zeros(5, 2, dtype=torch.long), NeuronSpec())
    with pytest.raises(ConfigError, match="v_init of shape"):
        backends.run_multistep(torch.zeros(5, 2), NeuronSpec(), v_init=torch.zeros(3))
