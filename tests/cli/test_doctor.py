"""``eventpipe doctor``: on a machine without CUDA every GPU backend is reported unavailable with its reason,
the torch backend passes its check, and a missing or broken CuPy gives its one line of advice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.snn.backends import BACKENDS
from eventpipe.snn.doctor import diagnose

needs_no_cuda = pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the report of a machine without CUDA"
)


@needs_no_cuda
def test_cpu_machine_reports_gpu_backends_unavailable_and_cpu_backends_ok() -> None:
    report = diagnose()
    assert set(report["backends"]) == set(BACKENDS) - {"auto"}
    for name in ("torch", "numba"):
        check = report["backends"][name]["check"]
        assert check["device"] == "cpu" and check["spikes_equal"] and check["ok"]
    for name, entry in report["backends"].items():
        if name not in ("torch", "numba"):
            assert not entry["available"] and name in entry["reason"] and entry["check"] is None
    assert report["torch"]["cuda_available"] is False and report["torch"]["devices"] == []
    assert all(isinstance(p, str) and "\n" not in p for p in report["problems"])


def test_missing_cupy_gives_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    report = diagnose()
    assert report["cupy"]["installed"] is False
    assert (
        "CuPy is not installed: pip install 'eventpipe[cuda]' (in a clone: pip install -e '.[cuda]')"
        in report["problems"]
    )


def test_cupy_failing_to_import_gives_reinstall_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A CuPy whose import fails inside its extension modules (a missing CUDA runtime library)."""
    package = tmp_path / "cupy"
    package.mkdir()
    (package / "__init__.py").write_text(
        "raise OSError('libcudart.so.12: cannot open shared object file: No such file or directory')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    report = diagnose()
    assert report["cupy"]["installed"] is True and report["cupy"]["version"] is None
    assert report["cupy"]["import_error"].startswith("OSError: libcudart.so.12")
    (line,) = [p for p in report["problems"] if p.startswith("CuPy is installed but fails to import")]
    assert "pip install --force-reinstall 'cupy-cuda12x[ctk]'" in line


class _BrokenRawModule:
    """A CuPy ``RawModule`` whose compilation fails the way a missing NVRTC library does."""

    def __init__(self, code: str) -> None:
        self.code = code

    def get_function(self, name: str) -> None:
        raise RuntimeError("CuPy failed to load libnvrtc.so.12: cannot open shared object file")


def _fake_cupy_with_versions() -> types.ModuleType:
    """A CuPy whose runtime reports CUDA 12.4 on a driver for 12.8, and whose NVRTC library cannot load."""
    fake = types.ModuleType("cupy")
    fake.__version__ = "13.4.0"  # type: ignore[attr-defined]
    fake.RawModule = _BrokenRawModule  # type: ignore[attr-defined]
    runtime = types.SimpleNamespace(runtimeGetVersion=lambda: 12040, driverGetVersion=lambda: 12080)

    def nvrtc_version() -> tuple[int, int]:
        raise RuntimeError("CuPy failed to load libnvrtc.so.12")

    fake.cuda = types.SimpleNamespace(  # type: ignore[attr-defined]
        runtime=runtime, nvrtc=types.SimpleNamespace(getVersion=nvrtc_version)
    )
    return fake


def test_broken_nvrtc_gives_runtime_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy_with_versions())
    report = diagnose()
    cupy = report["cupy"]
    assert cupy["version"] == "13.4.0" and "libnvrtc.so.12" in cupy["nvrtc"]
    assert (cupy["runtime"], cupy["driver_cuda"], cupy["nvrtc_version"]) == ("12.4", "12.8", None)
    (line,) = [p for p in report["problems"] if "NVRTC" in p]
    assert line.startswith("CuPy is installed but NVRTC failed (RuntimeError: CuPy failed to load libnvrtc")
    assert "install the CUDA runtime matching cupy-cuda12x (pip install 'cupy-cuda12x[ctk]')" in line
    text = CliRunner().invoke(app, ["doctor"]).output
    assert "cupy:     13.4.0 (cupy-cuda12x, CUDA runtime 12.4, NVRTC not loaded: RuntimeError" in text


def test_missing_triton_line_only_when_a_triton_backend_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "triton", None)
    report = diagnose()
    assert report["triton"] is None
    line = "Triton is not installed: pip install 'eventpipe[triton]'"
    assert (line in report["problems"]) == ("triton" in BACKENDS)


def test_missing_compiler_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    report = diagnose()
    assert report["compiler"] is None and report["driver"] is None
    assert any(p.startswith("No host C/C++ compiler (g++ or c++) on PATH") for p in report["problems"])


def test_cli_json_text_and_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)
    runner = CliRunner()
    out = runner.invoke(app, ["doctor", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["backends"]["torch"]["check"]["ok"] is True
    text = runner.invoke(app, ["doctor"])
    assert text.exit_code == 0, text.output
    assert "backend torch: ok on cpu" in text.output
    assert "problem: CuPy is not installed: pip install 'eventpipe[cuda]'" in text.output
    strict = runner.invoke(app, ["doctor", "--strict"])
    assert strict.exit_code == 1


@needs_no_cuda
def test_an_available_backend_is_compiled_run_and_compared() -> None:
    if "triton" not in BACKENDS:
        pytest.skip("no triton backend")
    # Triton's interpreter runs the kernels on the CPU; it is read when triton is imported: a new process
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "eventpipe", "doctor", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    entry = json.loads(out.stdout)["backends"]["triton"]
    assert entry["available"], entry["reason"]
    check = entry["check"]
    assert (
        check["device"] == "cpu" and check["spikes_equal"] and check["max_grad_diff"] <= 1e-5 and check["ok"]
    )
