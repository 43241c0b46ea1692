"""What this machine can run: the CUDA stack the neuron backends need, and a parity check of each backend.

:func:`diagnose` returns a plain dict (nothing is printed): the environment (Python, PyTorch and its CUDA
build, devices, driver, CuPy and whether NVRTC compiles, Triton, the host C++ compiler), one entry per
backend of :data:`eventpipe.snn.backends.BACKENDS` (available or why not; where available, a tiny LIF
forward + backward compared with the torch backend), and ``problems``: one line each, saying what to
install or set.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
import shutil
import subprocess
import sys
from typing import Any

import torch

from eventpipe.errors import EventpipeError
from eventpipe.snn.backends import BACKENDS, CPU_BACKENDS, check_backend, run_multistep
from eventpipe.snn.dynamics import NeuronSpec, multistep_loop

__all__ = ["diagnose"]

_PROBE_KERNEL = 'extern "C" __global__ void doctor_probe(float* x) { x[threadIdx.x] += 1.0f; }'
_SPEC = NeuronSpec(kind="lif", tau=2.0)
_SHAPE = (4, 3, 5)  # T=4 steps of 3 x 5 neurons
_GRAD_TOL = 1e-5


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _torch_info() -> dict[str, Any]:
    available = torch.cuda.is_available()
    devices = []
    for i in range(torch.cuda.device_count() if available else 0):
        props = torch.cuda.get_device_properties(i)
        devices.append({
            "index": i,
            "name": props.name,
            "capability": f"{props.major}.{props.minor}",
            "memory_GiB": round(props.total_memory / 2**30, 1),
        })  # fmt: skip
    return {
        "version": torch.__version__,
        "built_with_cuda": torch.version.cuda,
        "cuda_available": available,
        "devices": devices,
    }


def _driver_version() -> str | None:
    """The NVIDIA driver version from ``nvidia-smi``, or ``None`` without one."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run(
            [smi, "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def _cuda_version(code: int) -> str:
    """CUDA's integer version (e.g. 12040) as ``"12.4"``."""
    return f"{code // 1000}.{code % 1000 // 10}"


def _cupy_versions(cupy: Any) -> dict[str, str | None]:
    """The CUDA runtime CuPy loaded, the CUDA version the driver supports, and NVRTC's version."""
    out: dict[str, str | None] = {}
    for key, read in (
        ("runtime", lambda: _cuda_version(cupy.cuda.runtime.runtimeGetVersion())),
        ("driver_cuda", lambda: _cuda_version(cupy.cuda.runtime.driverGetVersion())),
        ("nvrtc_version", lambda: ".".join(map(str, cupy.cuda.nvrtc.getVersion()))),
    ):
        try:
            out[key] = read()
        except Exception:  # no driver, no runtime library, or an older CuPy without the call
            out[key] = None
    return out


def _cupy_package() -> str:
    """The installed distribution that provides ``cupy`` (e.g. ``cupy-cuda12x``), for the advice lines."""
    try:
        names = importlib.metadata.packages_distributions().get("cupy") or []
    except Exception:  # a broken environment: fall back to the name the cuda extra installs
        names = []
    return names[0] if names else "cupy-cuda12x"


def _cupy_info() -> dict[str, Any]:
    """CuPy's version, its CUDA runtime, driver and NVRTC versions, and whether NVRTC compiles a trivial
    kernel (``nvrtc``: ``"ok"`` or the error)."""
    empty = {"version": None, "import_error": None, "nvrtc": None, "runtime": None, "driver_cuda": None,
             "nvrtc_version": None, "package": None}  # fmt: skip
    try:
        cupy = importlib.import_module("cupy")
    except ImportError:
        return {**empty, "installed": False}
    except Exception as exc:  # a broken install raises anything from its extension modules
        return {**empty, "installed": True, "import_error": _first_line(exc), "package": _cupy_package()}
    try:
        cupy.RawModule(code=_PROBE_KERNEL).get_function("doctor_probe")
        nvrtc = "ok"
    except Exception as exc:  # NVRTC, driver or runtime library errors alike
        nvrtc = _first_line(exc)
    return {
        **empty,
        "installed": True,
        "version": getattr(cupy, "__version__", None),
        "nvrtc": nvrtc,
        "package": _cupy_package(),
        **_cupy_versions(cupy),
    }


def _module_version(name: str) -> str | None:
    try:
        return str(importlib.import_module(name).__version__)
    except Exception:  # missing or broken: reported as not installed
        return None


def _compiler() -> str | None:
    """The first line of ``g++ --version`` (else ``c++``), or ``None`` without a host C++ compiler."""
    for name in ("g++", "c++"):
        path = shutil.which(name)
        if path is None:
            continue
        try:
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        if out.strip():
            return out.strip().splitlines()[0]
    return None


def _parity(backend: str, device: torch.device) -> dict[str, Any]:
    """LIF over ``[4, 3, 5]`` forward + backward on ``backend`` against the reference on the same device:
    the torch backend for a GPU backend, the per-step autograd loop for the torch backend."""
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(_SHAPE, generator=gen) * 1.5).to(device)
    weight = torch.randn(_SHAPE, generator=gen).to(device)

    def run(use_reference: bool) -> tuple[torch.Tensor, torch.Tensor]:
        xs = x.clone().requires_grad_()
        if use_reference and backend == "torch":
            spikes = multistep_loop(xs, _SPEC)[0]
        else:
            spikes = run_multistep(xs, _SPEC, backend="torch" if use_reference else backend)[0]
        (spikes * weight).sum().backward()
        assert xs.grad is not None
        return spikes.detach(), xs.grad

    spikes, grad = run(False)
    ref_spikes, ref_grad = run(True)
    spikes_equal = bool(torch.equal(spikes, ref_spikes))
    grad_diff = float((grad - ref_grad).abs().max())
    return {
        "device": str(device),
        "spikes_equal": spikes_equal,
        "max_grad_diff": grad_diff,
        "ok": spikes_equal and grad_diff <= _GRAD_TOL,
    }


def _backend_entry(name: str) -> dict[str, Any]:
    try:
        check_backend(name, _SPEC)
    except EventpipeError as exc:
        return {"available": False, "reason": str(exc), "check": None}
    # a GPU backend may also run on the CPU (Triton's interpreter); it is checked where it runs
    on_gpu = name not in CPU_BACKENDS and torch.cuda.is_available()
    device = torch.device("cuda", torch.cuda.current_device()) if on_gpu else torch.device("cpu")
    try:
        check = _parity(name, device)
    except Exception as exc:  # a kernel that fails to compile or launch is what this check is for
        check = {"device": str(device), "ok": False, "error": _first_line(exc)}
    return {"available": True, "reason": None, "check": check}


def _problems(report: dict[str, Any]) -> list[str]:
    problems = []
    tinfo, cupy = report["torch"], report["cupy"]
    if tinfo["built_with_cuda"] is None:
        problems.append(
            f"PyTorch {tinfo['version']} is a CPU build: install a CUDA build of torch "
            "(https://pytorch.org/get-started/locally/) to use the GPU backends"
        )
    elif not tinfo["cuda_available"]:
        problems.append(
            f"PyTorch is built with CUDA {tinfo['built_with_cuda']} but sees no device: check "
            "nvidia-smi, the NVIDIA driver and CUDA_VISIBLE_DEVICES"
        )
    # the cupy wheel for torch's CUDA major (cupy-cuda12x: the cuda extra, cupy-cuda13x: cuda13)
    major = (tinfo["built_with_cuda"] or "12").split(".")[0]
    extra = "cuda" if major == "12" else f"cuda{major}"
    if not cupy["installed"]:
        problems.append(
            f"CuPy is not installed: pip install 'eventpipe[{extra}]' (in a clone: pip install -e '.[{extra}]')"
        )
    elif cupy["import_error"] is not None:
        problems.append(
            f"CuPy is installed but fails to import ({cupy['import_error']}): reinstall it with "
            f"pip install --force-reinstall '{cupy['package']}[ctk]'"
        )
    elif cupy["nvrtc"] != "ok":
        problems.append(
            f"CuPy is installed but NVRTC failed ({cupy['nvrtc']}): install the CUDA runtime matching "
            f"{cupy['package']} (pip install '{cupy['package']}[ctk]') or set CUDA_PATH to a matching CUDA "
            "toolkit"
        )
    if "triton" in report["backends"] and report["triton"] is None:
        problems.append("Triton is not installed: pip install 'eventpipe[triton]'")
    if report["compiler"] is None:
        problems.append(
            "No host C/C++ compiler (g++ or c++) on PATH, which Triton needs to build its kernel launcher and "
            "the host kernel tests to build neuron.cu: install one (apt install build-essential)"
        )
    for name, entry in report["backends"].items():
        check = entry["check"]
        if check is None or check["ok"]:
            continue
        if "error" in check:
            problems.append(
                f"backend {name!r} is available but its LIF check failed on {check['device']}: "
                f"{check['error']}"
            )
        else:
            problems.append(
                f"backend {name!r} disagrees with the reference on {check['device']} "
                f"(spikes equal: {check['spikes_equal']}, max gradient difference "
                f"{check['max_grad_diff']:.3g}): report it with the output of eventpipe doctor --json"
            )
    return problems


def diagnose() -> dict[str, Any]:
    """The environment, each backend's availability and LIF parity check, and the problems found."""
    report: dict[str, Any] = {
        "python": f"{platform.python_version()} ({sys.executable})",
        "torch": _torch_info(),
        "driver": _driver_version(),
        "cupy": _cupy_info(),
        "triton": _module_version("triton"),
        "compiler": _compiler(),
        "backends": {name: _backend_entry(name) for name in BACKENDS if name != "auto"},
    }
    report["problems"] = _problems(report)
    return report
