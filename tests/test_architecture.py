"""The import rules of docs/ARCHITECTURE.md, checked by import-linter's contracts in pyproject.toml.

The second test proves the check has teeth: a copy of the package with one forbidden import added
must break a contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed (pip install -e '.[dev]')")


def lint(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else dict(os.environ)
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_import_contracts_hold() -> None:
    result = lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("loading/dataset.py", "import eventpipe.pipeline.prepare", "The loading side never builds"),
        ("train/data.py", "from eventpipe.cli.common import state", "The CLI and the benchmarks are leaves"),
        ("fetch/download.py", "import eventpipe.sources", "fetch works from a Manifest"),
        ("store/markers.py", "import eventpipe.sources", "Layers"),
        ("frames/slicing.py", "import eventpipe.frames.spec", "No import cycle"),
        ("readers/npy.py", "import distributed", "Dask is imported directly only by the pipeline"),
        ("store/frames/reader.py", "import eventpipe.store._zarr.nodes", "The Zarr fast path has one interface"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, line: str, broken: str) -> None:
    shutil.copytree(REPO / "eventpipe", tmp_path / "eventpipe", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "eventpipe" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = lint(tmp_path, pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{broken}" in result.stdout and "BROKEN" in result.stdout


def test_no_module_imports_itself_back() -> None:
    """Stronger than the sibling contract: no chain of imports between any two modules of the package
    (parents and children included, function-level imports included) leads back to where it began."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("eventpipe", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported != module and graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} -> {imported} -> ... -> {module}")
    assert cycles == []


def test_the_loading_side_loads_no_builder_at_run_time() -> None:
    """What the contracts say, checked on the running interpreter: importing the dataset classes, the
    loading package, the transforms and the collates loads no pipeline, fetch, Dask, CLI or benchmark."""
    code = ("import sys, eventpipe.datasets, eventpipe.loading, eventpipe.transforms, eventpipe.collate\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed') or m.startswith("
            "('eventpipe.pipeline', 'eventpipe.fetch', 'eventpipe.cli', 'eventpipe.bench'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


DYNAMIC_IMPORTS = {
    # module: what it imports by name at run time, and why that is no back door through the contracts
    "eventpipe/__init__.py": "the public names, each from its own package (the root is above every layer)",
    "eventpipe/store/__init__.py": "its own submodules",
    "eventpipe/train/__init__.py": "its own submodules",
    "eventpipe/snn/__init__.py": "its own submodules",
    "eventpipe/snn/neuron.py": "eventpipe.snn.neuron_extra's neurons, re-exported by name (neuron_extra builds on neuron)",
    "eventpipe/snn/doctor.py": "optional third-party packages (cupy, triton) to report their versions",
    "eventpipe/readers/__init__.py": "the registered readers, 'eventpipe.readers.MODULE:function'",
    "eventpipe/frames/plugins.py": "a user's integrator plugin, 'module:function'",
    "eventpipe/fetch/download.py": "a manifest's generator, 'module:function' (see the manifest test below)",
    "eventpipe/sources/__init__.py": "its own dataset modules, to register them",
    "eventpipe/cli/main.py": "its own command modules",
    "eventpipe/bench/neurons.py": "SpikingJelly, the baseline",
}


def test_every_import_by_name_is_accounted_for() -> None:
    """Imports by a string (``importlib.import_module``, ``__import__``) are invisible to import-linter:
    each place that does one is listed above with what it may load."""
    found = {str(path.relative_to(REPO)).replace(os.sep, "/") for path in (REPO / "eventpipe").rglob("*.py")
             if "import_module(" in path.read_text() or "__import__(" in path.read_text()}
    assert found == set(DYNAMIC_IMPORTS)


def test_manifest_generators_live_below_fetch() -> None:
    """``fetch`` runs a manifest's generator by name: it must not lead into the registry, the CLI or the
    benchmarks, which ``fetch`` may not import."""
    from eventpipe.manifests import load_manifest, manifest_names

    generators = {name: load_manifest(name).generator for name in manifest_names()}
    above = ("eventpipe.sources", "eventpipe.datasets", "eventpipe.cli", "eventpipe.bench", "eventpipe.train",
             "eventpipe.pipeline", "eventpipe.loading")
    bad = {name: g for name, g in generators.items() if g and g.partition(":")[0].startswith(above)}
    assert bad == {}


def test_every_top_level_module_has_a_layer() -> None:
    """A new module or package of ``eventpipe`` must be placed in a layer (and so in docs/ARCHITECTURE.md)."""
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    package = REPO / "eventpipe"
    present = {f"eventpipe.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    present |= {f"eventpipe.{p.name}" for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert present == placed
    architecture = (REPO / "docs" / "ARCHITECTURE.md").read_text()
    missing = [name for name in sorted(present) if f"`{name.removeprefix('eventpipe.')}" not in architecture]
    assert missing == []
