"""Backend names, ``auto`` selection and its override, and the errors of an explicit GPU backend where it
cannot run."""

from __future__ import annotations

import pytest
import torch

from eventpipe.errors import ConfigError, EventpipeError, MissingDependencyError
from eventpipe.snn import backends, surrogate
from eventpipe.snn.cuda import backend as cuda_backend
from eventpipe.snn.dynamics import NeuronSpec
from eventpipe.snn.neuron import LIFNode
from eventpipe.snn.triton import backend as triton_backend

needs_no_cuda = pytest.mark.skipif(cuda_backend.is_available(), reason="CuPy and a GPU are present here")


@pytest.fixture
def pretend_cupy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Act as if CuPy and a GPU were present (nothing is launched: inputs stay on the CPU)."""
    monkeypatch.setattr(cuda_backend, "unavailable_reason", lambda: None)
    monkeypatch.setattr(cuda_backend, "is_available", lambda: True)


@pytest.fixture
def pretend_triton(monkeypatch: pytest.MonkeyPatch) -> None:
    """Act as if Triton and a GPU were present (nothing is launched)."""
    monkeypatch.setattr(triton_backend, "unavailable_reason", lambda: None)
    monkeypatch.setattr(triton_backend, "is_available", lambda: True)


@pytest.fixture(autouse=True)
def no_override(monkeypatch: pytest.MonkeyPatch):
    """Each test starts without a process-wide override, and leaves none."""
    monkeypatch.delenv(backends.ENV_VAR, raising=False)
    backends.set_backend(None)
    yield
    backends.set_backend(None)


@pytest.fixture
def cuda_like(monkeypatch: pytest.MonkeyPatch) -> torch.Tensor:
    """A CPU tensor that reports itself as a CUDA one (for the selection logic only)."""
    monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda self: True))
    return torch.zeros(2, 2)


def test_unknown_backend_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"Unknown value 'cuda' for argument backend\. Valid values are"):
        backends.check_backend("cuda")
    with pytest.raises(ConfigError):
        LIFNode(backend="cuda")


def test_auto_picks_numba_for_cpu_tensors_it_can_run() -> None:
    assert backends.select_backend("auto", torch.zeros(2, 2), NeuronSpec()) == "numba"
    assert backends.select_backend("auto", torch.zeros(2, 2).double(), NeuronSpec()) == "numba"
    assert backends.select_backend("auto", torch.zeros(2, 2).half(), NeuronSpec()) == "torch"
    smooth = NeuronSpec(surrogate=surrogate.Sigmoid(spiking=False))
    assert backends.select_backend("auto", torch.zeros(2, 2), smooth) == "torch"


def test_auto_picks_cupy_only_when_it_can_run(pretend_cupy: None, cuda_like: torch.Tensor) -> None:
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
    node = LIFNode(backend="cupy", step_mode="m")
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


def test_auto_order_is_triton_then_cupy_then_torch(
    pretend_cupy: None, pretend_triton: None, cuda_like: torch.Tensor, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert backends.AUTO_ORDER == ("triton", "cupy")
    assert backends.select_backend("auto", cuda_like, NeuronSpec()) == "triton"
    assert backends.select_backend("auto", cuda_like.double(), NeuronSpec()) == "torch"
    monkeypatch.setattr(triton_backend, "is_available", lambda: False)
    assert backends.select_backend("auto", cuda_like, NeuronSpec()) == "cupy"
    monkeypatch.setattr(cuda_backend, "is_available", lambda: False)
    assert backends.select_backend("auto", cuda_like, NeuronSpec()) == "torch"


def test_auto_never_picks_triton_for_cpu_tensors(pretend_triton: None) -> None:
    assert backends.select_backend("auto", torch.zeros(2, 2), NeuronSpec()) == "numba"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present here")
def test_explicit_triton_without_a_gpu_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(MissingDependencyError, match="^backend='triton' cannot be used: [^\\n]*$"):
        LIFNode(backend="triton")
    with pytest.raises(MissingDependencyError):
        backends.run_multistep(torch.zeros(3, 2), NeuronSpec(), backend="triton")


def test_set_backend_overrides_auto_but_not_an_explicit_choice(
    pretend_cupy: None, pretend_triton: None, cuda_like: torch.Tensor, monkeypatch: pytest.MonkeyPatch
) -> None:
    backends.set_backend("torch")
    assert backends.default_backend() == "torch"
    assert backends.select_backend("auto", cuda_like, NeuronSpec()) == "torch"
    assert backends.select_backend("cupy", cuda_like, NeuronSpec()) == "cupy"
    backends.set_backend("cupy")
    assert backends.select_backend("auto", cuda_like, NeuronSpec()) == "cupy"
    backends.set_backend("auto")  # the automatic order, whatever the environment says
    monkeypatch.setenv(backends.ENV_VAR, "torch")
    assert backends.select_backend("auto", cuda_like, NeuronSpec()) == "triton"
    backends.set_backend(None)  # back to the environment
    assert backends.select_backend("auto", cuda_like, NeuronSpec()) == "torch"
    with pytest.raises(ConfigError, match="Unknown value 'cuda' for argument backend"):
        backends.set_backend("cuda")


def test_environment_variable_overrides_auto(
    pretend_cupy: None, cuda_like: torch.Tensor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(backends.ENV_VAR, "cupy")
    assert backends.select_backend("auto", cuda_like, NeuronSpec()) == "cupy"
    assert backends.select_backend("torch", cuda_like, NeuronSpec()) == "torch"
    monkeypatch.setenv(backends.ENV_VAR, "gpu")
    with pytest.raises(
        ConfigError, match="Unknown value 'gpu' for the environment variable EVENTPIPE_NEURON_BACKEND"
    ):
        backends.select_backend("auto", cuda_like, NeuronSpec())


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present here")
def test_an_override_naming_a_backend_that_cannot_run_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    backends.set_backend("triton")
    with pytest.raises(MissingDependencyError, match="backend='triton' cannot be used"):
        backends.run_multistep(torch.zeros(3, 2), NeuronSpec())
