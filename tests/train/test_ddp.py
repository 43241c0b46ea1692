"""DistributedDataParallel on the CPU: ``torchrun`` with 2 processes (gloo) matches one process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eventpipe.train.loop import train

from .train_toy import bundle, comparable, config, tiny_net

HERE = Path(__file__).resolve().parent

SCRIPT = """
import json, os, sys
sys.path.insert(0, {here!r})
from train_toy import bundle, config, tiny_net
from eventpipe.train.loop import train
def run(out, **kwargs):
    return train(config(out, **{{"train.epochs": 2}}), data=bundle(), model=tiny_net(dropout=0.0), progress=False,
                 log=lambda _m: None, **kwargs)
r = run({out!r})
part = run({part!r}, stop_after=1)
resumed = run({part!r}, resume={part!r})
import threading
assert threading.enumerate() == [threading.main_thread()], threading.enumerate()  # nothing left running at exit
rank = os.environ["RANK"]
with open(os.path.join({result!r}, f"rank{{rank}}.json"), "w") as f:
    json.dump({{"history": r.history, "output": r.output, "epochs": r.epochs, "part_epochs": part.epochs,
               "resumed": resumed.history}}, f)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    env.pop("RANK", None)
    env.pop("WORLD_SIZE", None)
    return env


def _torchrun(script: Path, cwd: Path, timeout: float, hung: str) -> tuple[int, str, str]:
    """Run ``script`` on two ranks; on timeout kill the whole group (torchrun and both ranks) and fail."""
    # A new session, so that on timeout the whole group is killed, never orphaned.
    proc = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=cwd, start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"{hung}:\n" + stdout[-3000:] + stderr[-3000:])
    return proc.returncode, stdout, stderr


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_process_gloo_matches_single_process_and_resumes(tmp_path: Path) -> None:
    script = tmp_path / "ddp_train.py"
    results = tmp_path / "results"
    results.mkdir()
    script.write_text(textwrap.dedent(SCRIPT.format(here=str(HERE), out=str(tmp_path / "ddp"),
                                                    part=str(tmp_path / "part"), result=str(results))))
    code, stdout, stderr = _torchrun(script, tmp_path, 280, "torchrun did not finish in 280 s")
    assert code == 0, stdout[-3000:] + stderr[-3000:]
    assert "terminate called" not in stderr and "exit barrier failed" not in stderr, stderr[-3000:]
    r0 = json.loads((results / "rank0.json").read_text())
    r1 = json.loads((results / "rank1.json").read_text())
    assert r0["output"] == r1["output"] == str(tmp_path / "ddp")  # one folder for the job
    assert comparable(r0["history"]) == comparable(r1["history"])  # metrics are reduced over ranks
    # stopped after epoch 1 and resumed with 2 processes: the same metrics as the uninterrupted DDP run
    assert r0["part_epochs"] == 1
    assert comparable(r0["resumed"]) == comparable(r0["history"])

    single = train(config(str(tmp_path / "single"), **{"train.epochs": 2}), data=bundle(), model=tiny_net(dropout=0.0),
                   progress=False, log=lambda _m: None)
    for d, s in zip(r0["history"], single.history, strict=True):
        assert d["train_samples"] == s["train_samples"] == 96
        assert d["train_loss"] == pytest.approx(s["train_loss"], rel=0.05, abs=1e-3)
        assert d["test_loss"] == pytest.approx(s["test_loss"], rel=0.05, abs=1e-3)
        assert abs(d["train_accuracy"] - s["train_accuracy"]) <= 0.05
        assert abs(d["test_accuracy"] - s["test_accuracy"]) <= 0.05
        for layer_name, rate in s["firing_rate"].items():
            assert d["firing_rate"][layer_name] == pytest.approx(rate, abs=0.02)
    # only rank 0 wrote files
    out = tmp_path / "ddp"
    assert [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["best.pt", "latest.pt"]


FAILING_SCRIPT = """
import os, sys
sys.path.insert(0, {here!r})
from train_toy import bundle, config, tiny_net
from eventpipe.train.loop import train
model = tiny_net(dropout=0.0)
if os.environ["RANK"] == "1":
    def fail(module, inputs):
        raise RuntimeError("rank 1 failed")
    model.register_forward_pre_hook(fail)
try:
    train(config({out!r}), data=bundle(), model=model, progress=False, log=lambda _m: None)
except RuntimeError as exc:  # as the CLI does: one line, exit code 2
    print(exc, file=sys.stderr)
    sys.exit(2)
"""


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_failing_rank_ends_the_job_without_waiting_at_exit(tmp_path: Path) -> None:
    """Rank 1 fails at its first step while rank 0 waits in a collective: rank 1 must not wait for rank 0
    at exit (the exit barrier is for clean exits), so torchrun sees the failure and ends the job."""
    script = tmp_path / "fail.py"
    script.write_text(textwrap.dedent(FAILING_SCRIPT.format(here=str(HERE), out=str(tmp_path / "run"))))
    code, _, stderr = _torchrun(script, tmp_path, 90, "the job hung after rank 1 failed")
    assert code != 0
    assert "rank 1 failed" in stderr and "exit barrier failed" not in stderr, stderr[-3000:]
    assert not (tmp_path / "run").exists()  # failed before its first checkpoint
