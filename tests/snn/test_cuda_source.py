"""neuron.cu ships as package data, every template instance the backend launches compiles, and the kernel
names the backend builds exist in the source."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from eventpipe.snn.cuda import backend
from eventpipe.snn.dynamics import NEURON_KINDS
from eventpipe.snn.surrogate import surrogate_from_name, surrogate_names

needs_nvcc = pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc (CUDA toolkit) not found")


def test_source_is_package_data() -> None:
    source = backend.kernel_source()
    assert "__global__ void neuron_forward" in source
    assert "__global__ void neuron_backward" in source
    assert "#include" not in source  # compiles under NVRTC without any CUDA header


def test_surrogate_codes_agree_with_source() -> None:
    source = backend.kernel_source()
    defined = {m.group(1).lower(): int(m.group(2)) for m in re.finditer(r"#define SG_(\w+) (\d+)", source)}
    coded = {name: type(surrogate_from_name(name)).cuda_code for name in surrogate_names()}
    coded = {name: code for name, code in coded.items() if code is not None}  # others run on "torch" only
    assert coded and all(defined[name] == code for name, code in coded.items())


def test_kernel_names_cover_every_configuration() -> None:
    names = backend.kernel_names()
    assert len(names) == len(set(names))
    forward = [n for n in names if n.startswith("neuron_forward<")]
    # per dtype: IF x 2 resets + (LIF, PLIF) x 2 resets x 2 decay_input
    assert len(forward) == len(backend.CUDA_DTYPES) * (2 + 2 * 2 * 2)
    coded = [n for n in surrogate_names() if type(surrogate_from_name(n)).cuda_code is not None]
    assert len(names) - len(forward) == len(forward) * 2 * len(coded)
    assert (
        {n.split("<")[1].split(",")[1].strip() for n in names}
        == {"0", "1", "2"}
        == {str(i) for i in range(len(NEURON_KINDS))}
    )


def _compile(names: list[str], tmp_path: Path) -> None:
    (tmp_path / "neuron.cu").write_text(backend.kernel_source())
    table = ",\n".join(f"    (void*)&{name}" for name in names)
    (tmp_path / "instances.cu").write_text(
        '#include "neuron.cu"\n'
        f"static void* const instances[] = {{\n{table}\n}};\n"
        "void* instance(int i) { return instances[i]; }\n"
    )
    options = [o.replace("--std=", "-std=") for o in backend.COMPILE_OPTIONS]
    result = subprocess.run(
        ["nvcc", "--ptx", "-arch=sm_80", *options, "-Werror", "all-warnings",
         str(tmp_path / "instances.cu"), "-o", str(tmp_path / "instances.ptx")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    ptx = (tmp_path / "instances.ptx").read_text()
    assert ptx.count(".entry") == len(names)
    # --fmad=false: no contracted multiply-add in the forward pass, so the charge rounds like the torch backend
    # (the math library's expf in the backward pass uses explicit fma, which is fine there)
    forward_bodies = [body for body in ptx.split(".entry")[1:] if "neuron_forward" in body.split("(")[0]]
    assert forward_bodies and not any("fma." in body for body in forward_bodies)


@needs_nvcc
def test_nvcc_compiles_a_representative_set(tmp_path: Path) -> None:
    """Every forward instance, every float32 backward configuration with the sigmoid surrogate, every
    surrogate once, and a 16-bit backward per storage type (the slow test compiles all of them)."""
    names = backend.kernel_names()
    chosen = [n for n in names if n.startswith("neuron_forward<")]
    chosen += [n for n in names if n.startswith("neuron_backward<float,") and n.endswith(", 0>")]
    chosen += [backend.backward_kernel_name("float", "plif", True, True, False, code) for code in range(1, 6)]
    chosen += [backend.backward_kernel_name(t, "plif", False, True, False, 1) for t in ("f16", "bf16")]
    assert set(chosen) <= set(names)
    _compile(chosen, tmp_path)


@needs_nvcc
@pytest.mark.slow
def test_nvcc_compiles_every_instance(tmp_path: Path) -> None:
    _compile(backend.kernel_names(), tmp_path)
