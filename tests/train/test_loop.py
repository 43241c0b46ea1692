"""The training loop on a small in-memory problem: learning, reproducibility, resume, failures, outputs."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch
from torch.utils.data import default_collate

from eventpipe.errors import ConfigError, TrainingError
from eventpipe.train.checkpoint import load_checkpoint
from eventpipe.train.config import TrainConfig
from eventpipe.train.data import DataBundle, EncodeImages, batch_seed, to_device
from eventpipe.train.evaluation import evaluate_checkpoint
from eventpipe.train.loop import train
from eventpipe.train.metrics import read_jsonl

from .train_toy import CLASSES, bundle, comparable, config, tiny_net


def latest_tensors(run: Path) -> list[torch.Tensor]:
    """The parameters and buffers stored in the run's latest checkpoint."""
    return [t for t in load_checkpoint(run)["model"].values() if isinstance(t, torch.Tensor)]


def _run(out: Path, **kwargs):
    overrides = kwargs.pop("overrides", {})
    data = kwargs.pop("data", None) or bundle()
    return train(config(str(out), **overrides), data=data, model=tiny_net(), progress=False,
                 log=lambda _m: None, **kwargs)


def test_learns_and_writes_everything(tmp_path: Path) -> None:
    r = _run(tmp_path / "run", overrides={"train.plots": True})
    assert r.epochs == 3 and not r.interrupted
    assert r.best_accuracy >= 0.8, r.history  # chance is 0.25
    assert r.final_accuracy == r.history[-1]["test_accuracy"]
    assert r.samples_per_s > 0 and r.seconds > 0
    out = Path(r.output)
    assert {p.name for p in (out / "checkpoints").iterdir()} == {"latest.pt", "best.pt"}
    assert [row["epoch"] for row in read_jsonl(out / "metrics.jsonl")] == [1, 2, 3]
    assert (out / "metrics.csv").read_text().startswith("epoch,lr,train_loss")
    assert {p.name for p in (out / "plots").iterdir()} == {
        "curves.png", "confusion.png", "firing_rates.png", "spike_raster.png"}
    assert (out / "config.toml").is_file()
    rates = r.history[-1]["firing_rate"]
    assert set(rates) == {"2", "5"} and all(0.0 <= v <= 1.0 for v in rates.values())
    # top-5 of 4 classes is top-4: every sample; NeuroBench's metrics in every row and the summary
    assert [row["test_top5_accuracy"] for row in r.history] == [1.0, 1.0, 1.0]
    assert r.final_top5_accuracy == 1.0 and r.neurobench == r.history[-1]["neurobench"]
    nb = read_jsonl(out / "metrics.jsonl")[-1]["neurobench"]
    assert set(nb) == {"footprint_bytes", "connection_sparsity", "activation_sparsity", "synaptic_operations"}
    assert nb["footprint_bytes"] == sum(t.numel() * 4 for t in latest_tensors(out))
    ops = nb["synaptic_operations"]
    assert ops["dense"] > 0 and ops["effective_acs"] + ops["effective_macs"] <= ops["dense"]
    assert 0.0 < nb["activation_sparsity"] < 1.0
    assert "neurobench/synaptic_operations/effective_acs" in (out / "metrics.csv").read_text().splitlines()[0]
    best = load_checkpoint(out / "checkpoints" / "best.pt")
    assert best["epoch"] == r.best_epoch and best["best_accuracy"] == r.best_accuracy
    latest = load_checkpoint(out)
    assert latest["epoch"] == 3 and latest["step"] == 0 and latest["classes"] == ["a", "b", "c", "d"]
    assert latest["config"]["train"]["epochs"] == 3
    # learning-rate schedule: cosine over 3 epochs, one value per epoch
    assert [round(h["lr"], 6) for h in r.history] == [0.02, 0.015, 0.005]


def test_same_seed_same_metrics(tmp_path: Path) -> None:
    a = _run(tmp_path / "a")
    b = _run(tmp_path / "b")
    assert comparable(a.history) == comparable(b.history)
    c = _run(tmp_path / "c", overrides={"train.seed": 1})
    assert comparable(c.history) != comparable(a.history)


def test_resume_after_epoch_matches_uninterrupted(tmp_path: Path) -> None:
    full = _run(tmp_path / "full")
    first = _run(tmp_path / "part", stop_after=1)
    assert first.epochs == 1 and not first.interrupted
    assert load_checkpoint(tmp_path / "part")["epoch"] == 1
    resumed = _run(tmp_path / "ignored", resume=tmp_path / "part",
                   overrides={"train.output": str(tmp_path / "part")})
    assert resumed.epochs == 3
    assert comparable(resumed.history) == comparable(full.history)
    assert [r["epoch"] for r in read_jsonl(tmp_path / "part" / "metrics.jsonl")] == [1, 2, 3]
    w_full = load_checkpoint(tmp_path / "full")["model"]
    w_res = load_checkpoint(tmp_path / "part")["model"]
    for k in w_full:
        assert torch.equal(w_full[k], w_res[k]), k


def test_sigint_mid_epoch_saves_latest_and_resume_matches(tmp_path: Path) -> None:
    """SIGINT during the forward pass of step 5 of epoch 2: that step is completed, then latest.pt records
    epoch 1 + 5 steps, and the resumed run ends exactly where an uninterrupted run does, BatchNorm running
    statistics and dropout draws included. SIGINT starts out ignored, as in a background job of a script:
    the trainer still handles the signal sent to it, and puts the ignoring back afterwards."""
    steps_per_epoch = 96 // 8
    full = train(config(str(tmp_path / "full")), data=bundle(), model=tiny_net(batch_norm=True), progress=False,
                 log=lambda _m: None)
    model = tiny_net(batch_norm=True)
    calls = {"n": 0}

    def train_hook(module, inputs, output):
        if module.training:
            calls["n"] += 1
            if calls["n"] == steps_per_epoch + 5:
                os.kill(os.getpid(), signal.SIGINT)

    handle = model.register_forward_hook(train_hook)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        r = train(config(str(tmp_path / "run")), data=bundle(), model=model, progress=False, log=lambda _m: None)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # the inherited disposition is restored
    finally:
        signal.signal(signal.SIGINT, previous)
    handle.remove()
    assert r.interrupted and r.epochs == 1
    assert calls["n"] == steps_per_epoch + 5  # no forward pass after the signal
    ck = load_checkpoint(tmp_path / "run")
    assert (ck["epoch"], ck["step"]) == (1, 5)
    assert ck["partial"]["count"] == 5 * 8
    resumed = train(config(str(tmp_path / "run")), resume=tmp_path / "run", data=bundle(),
                    model=tiny_net(batch_norm=True), progress=False, log=lambda _m: None)
    assert resumed.epochs == 3 and not resumed.interrupted
    assert comparable(resumed.history) == comparable(full.history)
    w_full = load_checkpoint(tmp_path / "full")["model"]
    w_res = load_checkpoint(tmp_path / "run")["model"]
    assert any("running_mean" in k for k in w_full)
    for k in w_full:
        assert torch.equal(w_full[k], w_res[k]), k


def test_resuming_a_finished_run_says_it_is_complete(tmp_path: Path) -> None:
    done = _run(tmp_path / "run")
    messages: list[str] = []
    again = train(config(str(tmp_path / "run")), resume=tmp_path / "run", progress=False, log=messages.append)
    assert again.already_complete and not again.interrupted and again.epochs == 3
    assert messages == [f"{tmp_path / 'run' / 'checkpoints' / 'latest.pt'} is already complete (3/3 epochs); "
                        "nothing to train"]
    assert comparable(again.history) == comparable(done.history)
    assert (again.best_accuracy, again.best_epoch, again.final_accuracy) == (
        done.best_accuracy, done.best_epoch, done.final_accuracy)
    assert again.samples_per_s == pytest.approx(
        sum(r["train_samples"] for r in done.history) / sum(r["train_seconds"] for r in done.history))


def test_resume_refuses_changed_math(tmp_path: Path) -> None:
    _run(tmp_path / "run", stop_after=1)
    with pytest.raises(ConfigError, match=r"optimizer.lr=0.5.*trained with 0.02"):
        _run(tmp_path / "x", resume=tmp_path / "run", overrides={"optimizer.lr": 0.5})
    # workers / device / output may change
    r = _run(tmp_path / "y", resume=tmp_path / "run", overrides={"data.workers": 0, "train.device": "cpu"},
             stop_after=2)
    assert r.epochs == 2


def test_nan_loss_names_epoch_and_step(tmp_path: Path) -> None:
    model = tiny_net()
    calls = {"n": 0}

    def poison(module, inputs, output):
        if module.training:
            calls["n"] += 1
            if calls["n"] == 15:  # epoch 2, step 3 with 12 steps per epoch
                return output * float("nan")
        return output

    model.register_forward_hook(poison)
    with pytest.raises(TrainingError, match=r"loss is nan at epoch 2, step 3"):
        train(config(str(tmp_path / "run")), data=bundle(), model=model, progress=False, log=lambda _m: None)
    assert load_checkpoint(tmp_path / "run")["epoch"] == 1  # the last good checkpoint stays


def test_out_of_memory_suggests_smaller_sizes(tmp_path: Path) -> None:
    model = tiny_net()

    def oom(module, inputs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    model.register_forward_pre_hook(oom)
    with pytest.raises(TrainingError, match=r"out of memory at epoch 1, step 1 .*batch_size=8, T=6.*--batch-size 4"):
        train(config(str(tmp_path / "run")), data=bundle(), model=model, progress=False, log=lambda _m: None)
    assert not (tmp_path / "run").exists()  # failed before its first checkpoint: no folder with only config.toml


def static_bundle(n_train: int = 64, n_test: int = 32) -> DataBundle:
    """Grey 4x4 images ``[1, 4, 4]`` (a class prototype plus noise), stacked and Poisson-encoded per batch."""
    protos = torch.rand(len(CLASSES), 1, 4, 4, generator=torch.Generator().manual_seed(5))

    def split(n: int, seed: int) -> list[tuple[torch.Tensor, int]]:
        g = torch.Generator().manual_seed(seed)
        labels = torch.randint(0, len(CLASSES), (n,), generator=g).tolist()
        return [((0.8 * protos[y] + 0.2 * torch.rand(1, 4, 4, generator=g)), y) for y in labels]

    return DataBundle(split(n_train, 0), split(n_test, 1), CLASSES, collate=default_collate,
                      transform=EncodeImages("poisson", 6))


def static_config(output: Path, **overrides: object) -> TrainConfig:
    return config(str(output), **{"data.dataset": "demo-static", "data.encoder": "poisson", "data.steps": 6,
                                  "train.epochs": 2, **overrides})


def test_static_batches_are_encoded_on_the_device_with_seeded_spikes() -> None:
    data = static_bundle()
    batch = data.collate([data.train[i] for i in range(8)])
    assert batch[0].shape == (8, 1, 4, 4)  # images stacked, not encoded
    x, y, mask = to_device(batch, torch.device("cpu"), data.transform, seed=batch_seed(0, 0, 0, 0))
    assert x.shape == (6, 8, 1, 4, 4) and mask.shape == (6, 8) and bool(mask.all()) and y.dtype == torch.int64
    assert set(x.unique().tolist()) == {0.0, 1.0}
    again = to_device(batch, torch.device("cpu"), data.transform, seed=batch_seed(0, 0, 0, 0))[0]
    next_epoch = to_device(batch, torch.device("cpu"), data.transform, seed=batch_seed(0, 1, 0, 0))[0]
    assert torch.equal(x, again) and not torch.equal(x, next_epoch)
    assert data.example()[0].shape == (6, 1, 1, 4, 4)  # what the model's geometry is taken from


def test_static_run_resumes_and_evaluates_with_the_same_spikes(tmp_path: Path) -> None:
    full = train(static_config(tmp_path / "full"), data=static_bundle(), model=tiny_net(), progress=False,
                 log=lambda _m: None)
    assert full.final_accuracy > 0.5, full.summary()  # chance is 0.25
    cfg = static_config(tmp_path / "half")
    train(cfg, data=static_bundle(), model=tiny_net(), progress=False, log=lambda _m: None, stop_after=1)
    resumed = train(cfg, data=static_bundle(), model=tiny_net(), progress=False, log=lambda _m: None,
                    resume=tmp_path / "half")
    assert comparable(resumed.history) == comparable(full.history)
    best = evaluate_checkpoint(tmp_path / "full" / "checkpoints" / "best.pt", data=static_bundle(),
                               model=tiny_net(), device="cpu", progress=False)
    row = full.history[full.best_epoch - 1]
    assert (best.result.accuracy, best.result.loss) == (row["test_accuracy"], pytest.approx(row["test_loss"]))


def test_out_of_memory_on_static_data_names_the_steps(tmp_path: Path) -> None:
    model = tiny_net()

    def oom(module, inputs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    model.register_forward_pre_hook(oom)
    with pytest.raises(TrainingError, match=r"batch_size=8, T=6\): try a smaller batch \(--batch-size 4\) or "
                                            r"fewer time steps per sample \(--set data.steps=3\)"):
        train(static_config(tmp_path / "run"), data=static_bundle(), model=model, progress=False,
              log=lambda _m: None)


def test_failed_run_keeps_a_folder_it_did_not_make(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    model = tiny_net()

    def fail(module, inputs):
        raise RuntimeError("a bug in the model")

    model.register_forward_pre_hook(fail)
    with pytest.raises(RuntimeError, match="a bug in the model"):
        train(config(str(out)), data=bundle(), model=model, progress=False, log=lambda _m: None)
    assert (out / "notes.txt").read_text() == "keep"


def test_variable_length_batches_are_masked(tmp_path: Path) -> None:
    data = bundle(variable_t=True, T=8)
    r = train(config(str(tmp_path / "run"), **{"data.frames": None, "data.duration_us": 1000}), data=data,
              model=tiny_net(), progress=False, log=lambda _m: None)
    assert r.best_accuracy >= 0.7


def test_limits_and_batch_divisibility(tmp_path: Path) -> None:
    r = _run(tmp_path / "run", overrides={"data.limit_train": 40, "data.limit_test": 16, "train.epochs": 1})
    assert r.history[0]["train_samples"] == 40
    with pytest.raises(ConfigError, match="data.limit_train"):
        config(str(tmp_path), **{"data.limit_train": -1})


def test_online_training_through_the_loop_learns_and_resumes_exactly(tmp_path: Path) -> None:
    online = {"train.online": "fptt", "optimizer.lr": 0.005}
    full = _run(tmp_path / "full", overrides=online)
    assert full.best_accuracy >= 0.5, full.history  # chance is 0.25
    _run(tmp_path / "part", stop_after=1, overrides=online)
    assert load_checkpoint(tmp_path / "part")["online"]["w_ra"]  # FPTT's running average travels with it
    resumed = _run(tmp_path / "ignored", resume=tmp_path / "part",
                   overrides={**online, "train.output": str(tmp_path / "part")})
    assert comparable(resumed.history) == comparable(full.history)
    ottt = _run(tmp_path / "ottt", stop_after=1, overrides={"train.online": "ottt", "optimizer.lr": 0.005})
    assert ottt.epochs == 1 and ottt.history[0]["test_accuracy"] > 0.25, ottt.history  # above chance after one epoch


def test_online_training_refuses_mixed_precision(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="train.online='ottt' runs in one process without mixed precision"):
        _run(tmp_path / "run", overrides={"train.online": "ottt", "train.amp": True})
    with pytest.raises(ConfigError, match="online"):
        _run(tmp_path / "run", overrides={"train.online": "bptt"})
