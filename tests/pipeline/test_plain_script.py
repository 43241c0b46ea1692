"""A plain script, without an ``if __name__ == "__main__":`` block, that builds a dataset with a plugin
of its own: worker processes would run the script again, so the work runs in the script's process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_prepare import make_samples, write_events_store

from eventpipe.pipeline.dask import unsafe_to_start_workers

SCRIPT = '''
import sys

from eventpipe.datasets import Demo
from eventpipe.frames import integrate


def my_plugin(events, H, W):
    return integrate(events, (W, H, 2), frames=2)


ds = Demo(sys.argv[1], split="test", fn=my_plugin, prepare=True, workers=2, progress=False)
print("samples", len(ds), ds[0][0].shape[0])
'''


def test_unguarded_script_with_its_own_plugin_runs_in_its_process(tmp_path: Path) -> None:
    samples = make_samples()
    write_events_store(tmp_path / "data" / "demo" / "events.zarr", samples)
    (tmp_path / "script.py").write_text(SCRIPT)
    run = subprocess.run([sys.executable, "script.py", str(tmp_path / "data")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["samples", str(len(samples["test"])), "2"]
    assert "Nanny failed to start" not in run.stderr
    warning, = [line for line in run.stderr.splitlines() if "RuntimeWarning" in line]
    line = next(i for i, text in enumerate(SCRIPT.splitlines(), 1) if text.startswith("ds = "))
    assert f"script.py, line {line}," in warning and 'if __name__ == "__main__":' in warning


def test_this_process_may_start_workers() -> None:
    assert unsafe_to_start_workers() is None  # the test runner calls from under its main block
