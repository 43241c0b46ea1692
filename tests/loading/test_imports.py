"""The torch side imports without Dask, Typer or CuPy (they are blocked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = ("dask", "distributed", "typer", "cupy")


def _run(body: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys\nBLOCKED = {BLOCKED!r}\n"
    code += "".join(f"sys.modules[{name!r}] = None\n" for name in BLOCKED)
    code += textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_datasets_collate_transforms_import_without_dask_typer_cupy() -> None:
    proc = _run(
        """
        import eventpipe.collate
        from eventpipe.collate import pad_sequence_collate, padded_sequence_mask
        import eventpipe.datasets
        from eventpipe.datasets import DVS128Gesture, NMNIST, CIFAR10DVS, NCaltech101, SHD, ASLDVS, Demo
        import eventpipe.loading.dataset
        import eventpipe.transforms, eventpipe.viz
        from eventpipe.transforms import ToFrames
        ToFrames((4, 4, 2), frames=2)
        loaded = sorted(m for m in sys.modules if m.split('.')[0] in BLOCKED and sys.modules[m] is not None)
        assert not loaded, loaded
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_dataset_definitions_import_without_torch() -> None:
    proc = _run(
        """
        import eventpipe.sources
        eventpipe.sources.get_dataset("dvs128")
        assert "torch" not in sys.modules and "eventpipe.loading" not in sys.modules
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr


def test_every_public_name_resolves() -> None:
    import eventpipe.collate
    import eventpipe.datasets
    import eventpipe.loading
    import eventpipe.transforms
    import eventpipe.viz

    for mod in (eventpipe.collate, eventpipe.transforms, eventpipe.viz, eventpipe.loading, eventpipe.datasets):
        for name in mod.__all__:
            assert getattr(mod, name) is not None, f"{mod.__name__}.{name}"
