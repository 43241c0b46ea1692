"""Fixtures of the host-harness tests (test_host_shim.py, test_cuda_kernels_host.py): the system C++ compiler
and the shipped ``neuron.cu``, which they include from the package itself."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from eventpipe.snn.cuda import backend as cuda_backend


@pytest.fixture(scope="session")
def cxx() -> str:
    """``$CXX``, else the first of g++, c++, clang++ on PATH; the tests that need one skip without it."""
    for name in (os.environ.get("CXX", ""), "g++", "c++", "clang++"):
        path = shutil.which(name) if name else None
        if path is not None:
            return path
    pytest.skip(
        "no C++ compiler ($CXX, g++, c++ or clang++) on PATH to build neuron.cu for the host: "
        "install one (apt install g++)"
    )


@pytest.fixture(scope="session")
def neuron_cu() -> Path:
    """The ``neuron.cu`` the cupy backend compiles (the package's own file, not a copy)."""
    path = Path(cuda_backend.__file__).with_name("neuron.cu")
    assert path.read_text(encoding="utf-8") == cuda_backend.kernel_source()
    return path
