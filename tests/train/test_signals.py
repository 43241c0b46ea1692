"""Ctrl-C in a real process: the run stops after its current step, saves latest.pt, exits 130, resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from eventpipe.train.checkpoint import load_checkpoint

HERE = Path(__file__).resolve().parent

SCRIPT = """
import json, sys
sys.path.insert(0, {here!r})
from train_toy import bundle, config, tiny_net
from eventpipe.train.loop import train
resume = sys.argv[1] if len(sys.argv) > 1 else None
r = train(config({out!r}, **{{"train.epochs": 3, "data.workers": {workers}}}), data=bundle(delay_s={delay}),
          model=tiny_net(), progress=False, resume=resume)
print("RESULT " + json.dumps(r.summary()), flush=True)
sys.exit(130 if r.interrupted else 0)
"""


@pytest.mark.timeout(120)
def test_sigint_saves_latest_then_resume_finishes(tmp_path: Path) -> None:
    """With a DataLoader worker too: workers ignore the terminal's SIGINT, the trainer handles it."""
    workers = 1
    out = tmp_path / "run"
    script = tmp_path / "train_script.py"
    script.write_text(textwrap.dedent(SCRIPT.format(here=str(HERE), out=str(out), workers=workers, delay=0.01)))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=tmp_path)
    deadline = time.monotonic() + 90
    metrics = out / "metrics.jsonl"
    while not (metrics.exists() and metrics.read_text().strip()):  # epoch 1 done: we are inside epoch 2
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "training never finished its first epoch"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert "SIGINT: stopping after this step" in stdout + stderr
    assert "Traceback" not in stderr
    ck = load_checkpoint(out)
    summary = json.loads(stdout.split("RESULT ", 1)[1])
    assert summary["interrupted"] and summary["epochs"] == ck["epoch"]
    assert ck["epoch"] >= 1 and (ck["epoch"], ck["step"]) != (3, 0)

    done = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    final = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert final["epochs"] == 3 and not final["interrupted"]
    assert [json.loads(line)["epoch"] for line in metrics.read_text().splitlines()] == [1, 2, 3]
