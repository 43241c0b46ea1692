"""The training loop: epochs of training and evaluation, checkpoints, metrics, pictures, resume and DDP.

:func:`train` runs a :class:`~eventpipe.train.config.TrainConfig` end to end. Data and model are built
from the config (``prepare`` runs for whatever is missing), or passed in (any ``Dataset`` of
``(frames [T, ...], label)`` and any module mapping ``[T, N, ...]`` to ``[T, N, classes]``). A bundle's
batch transform (static images: the encoder) runs on each batch once it is on the device.

Reproducibility: the sample order of epoch ``e`` depends only on ``seed + e``, every random generator is
checkpointed (per rank), and a resumed run, also one stopped in the middle of an epoch, continues with
the same batches and generator states as an uninterrupted run, so it reaches the same metrics on the
same machine. A batch transform draws from a generator seeded by (seed, epoch, batch, rank): fresh
numbers every epoch, the same ones in a resumed run.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from torch.utils.data import DataLoader, Dataset

from eventpipe.errors import ConfigError, TrainingError
from eventpipe.train import checkpoint as ckpt_io
from eventpipe.train.build import build_model, resolve_model_kwargs
from eventpipe.train.config import TrainConfig
from eventpipe.train.data import DataBundle, SizedDataset, batch_seed, build_data, subset, to_device
from eventpipe.train.ddp import (
    DistContext,
    all_reduce_sum,
    barrier,
    broadcast_object,
    init_distributed,
    note_failure,
)
from eventpipe.train.evaluation import EvalResult, eval_seed, reset_state, run_eval
from eventpipe.train.losses import compute_loss, predict
from eventpipe.train.metrics import MetricsWriter
from eventpipe.train.online import online_step
from eventpipe.train.optim import build_optimizer, build_scheduler
from eventpipe.train.progress import progress as progress_bar
from eventpipe.train.runtime import (
    StopRequest,
    autocast_dtype,
    determinism,
    is_out_of_memory,
    resolve_device,
    seed_everything,
    seed_worker,
)
from eventpipe.train.sampling import ShardSampler

RESUMABLE_KEYS = frozenset({
    "data.workers", "data.root", "data.eval_batch_size", "train.device", "train.output", "train.plots",
    "train.firing_rates",
})
"""Config keys that may differ between a checkpoint and the run resuming it (they do not change the math)."""


@dataclass
class TrainResult:
    """Outcome of :func:`train` (also what ``eventpipe train --json`` prints)."""

    best_accuracy: float
    best_epoch: int
    final_accuracy: float
    epochs: int
    seconds: float
    samples_per_s: float
    output: str
    interrupted: bool = False
    already_complete: bool = False
    """The resumed checkpoint had finished every epoch: nothing was trained by this call."""
    final_top5_accuracy: float = 0.0
    """Top-5 accuracy of the last epoch on the test split (top-k with k = min(5, classes))."""
    neurobench: dict[str, Any] = field(default_factory=dict)
    """NeuroBench's metrics of the last epoch on the test split (:mod:`eventpipe.train.neurobench`)."""
    history: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        """The JSON-able summary (no per-epoch history)."""
        d = asdict(self)
        d.pop("history")
        return d


def default_output(name: str, cwd: Path | None = None) -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>`` under ``cwd`` (a suffix keeps it unique)."""
    base = (cwd or Path.cwd()) / "runs"
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = base / f"{name}-{stamp}"
    k = 1
    while path.exists():
        k += 1
        path = base / f"{name}-{stamp}-{k}"
    return path


def _check_resumable(stored: TrainConfig, config: TrainConfig) -> None:
    a, b = stored.to_dict(), config.to_dict()
    for section in a.keys() | b.keys():
        ta, tb = a.get(section), b.get(section)
        if not isinstance(ta, dict) or not isinstance(tb, dict):
            continue
        for key in sorted(ta.keys() | tb.keys()):
            dotted = f"{section}.{key}"
            if ta.get(key) != tb.get(key) and dotted not in RESUMABLE_KEYS:
                allowed = ", ".join(sorted(RESUMABLE_KEYS))
                raise ConfigError(
                    f"cannot resume with {dotted}={tb.get(key)!r}: the checkpoint was trained with "
                    f"{ta.get(key)!r} (only these may change on resume: {allowed})"
                )


class _Run:
    """State of one :func:`train` call; methods are the phases of the loop."""

    def __init__(self, config: TrainConfig, ctx: DistContext, device: torch.device, out_dir: Path,
                 data: DataBundle, model: torch.nn.Module, progress: bool, stop: StopRequest) -> None:
        self.cfg = config
        self.ctx = ctx
        self.device = device
        self.out_dir = out_dir
        self.data = data
        self.progress = progress and ctx.is_main
        self.stop = stop
        self.num_classes = len(data.classes)
        world = ctx.world_size
        if config.data.batch_size % world:
            raise ConfigError(
                f"data.batch_size={config.data.batch_size} must be divisible by the {world} processes "
                "(it is the number of samples per step over all of them)"
            )
        self.rank_batch = config.data.batch_size // world
        eval_batch = config.data.eval_batch_size or config.data.batch_size
        self.rank_eval_batch = max(1, math.ceil(eval_batch / world))
        self.amp = config.train.amp
        self.amp_dtype = autocast_dtype(device)

        model.to(device)
        self.raw_model = model
        if ctx.distributed:
            ids = [device.index] if device.type == "cuda" else None
            self.model: torch.nn.Module = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
        else:
            self.model = model
        self.optimizer = build_optimizer(config.optimizer, model.parameters())
        self.scheduler = build_scheduler(config.schedule, self.optimizer, config.train.epochs)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp and device.type == "cuda")
        self.online = online_step(config.train, self.raw_model, self.optimizer, config.loss)
        if self.online is not None and (ctx.distributed or self.amp):
            raise ConfigError(
                f"train.online={config.train.online!r} runs in one process without mixed precision: "
                "set train.amp = false and start it without torchrun"
            )

        self.train_sampler = ShardSampler(len(data.train), shuffle=True, seed=config.train.seed,
                                          num_replicas=world, rank=ctx.rank, pad=True)
        self.test_sampler = ShardSampler(len(data.test), shuffle=False, num_replicas=world, rank=ctx.rank,
                                         pad=False)
        self.epoch = 0  # epochs completed
        self.step = 0  # batches completed in the current epoch
        self.partial = {"loss_sum": 0.0, "correct": 0.0, "count": 0.0, "seconds": 0.0}
        self.history: list[dict[str, Any]] = []
        self.best_accuracy = -1.0
        self.best_epoch = 0
        self.last_eval: EvalResult | None = None
        self.best_eval: EvalResult | None = None  # the best epoch's, when this call evaluated it

    # -- checkpoints ---------------------------------------------------------------------------------
    def restore(self, ck: dict[str, Any]) -> bool:
        """Continue from checkpoint ``ck``; False when it was written by another number of processes
        (its random states then cannot be restored rank by rank)."""
        self.raw_model.load_state_dict(ck["model"])
        self.optimizer.load_state_dict(ck["optimizer"])
        self.scheduler.load_state_dict(ck["scheduler"])
        if ck.get("scaler"):
            self.scaler.load_state_dict(ck["scaler"])
        if self.online is not None and ck.get("online"):
            self.online.load_state_dict(ck["online"])  # FPTT's running average of the weights
        self.epoch = int(ck["epoch"])
        self.step = int(ck.get("step", 0))
        partial = {k: float(v) for k, v in ck.get("partial", self.partial).items()}
        if not self.ctx.is_main:  # the stored sums are totals over ranks: count them once
            partial.update(loss_sum=0.0, correct=0.0, count=0.0)
        self.partial = partial
        self.history = [dict(r) for r in ck.get("history", [])]
        self.best_accuracy = float(ck.get("best_accuracy", -1.0))
        self.best_epoch = int(ck.get("best_epoch", 0))
        rng = ck.get("rng")
        if isinstance(rng, list) and len(rng) == self.ctx.world_size:
            ckpt_io.set_rng_state(rng[self.ctx.rank])
            return True
        return False

    def checkpoint(self, name: str) -> None:
        """Save ``name`` (collective: every rank contributes its random state; rank 0 writes)."""
        rng = ckpt_io.rng_state()
        p = self.partial
        # the unfinished epoch's running sums of all ranks; a resumed run gives them to rank 0
        loss_sum, correct, count = all_reduce_sum([p["loss_sum"], p["correct"], p["count"]], self.ctx, self.device)
        partial = {"loss_sum": loss_sum, "correct": correct, "count": count, "seconds": p["seconds"]}
        if self.ctx.distributed:
            gathered: list[Any] = [None] * self.ctx.world_size
            torch.distributed.all_gather_object(gathered, rng)
            rngs = gathered
        else:
            rngs = [rng]
        if not self.ctx.is_main:
            return
        ck = ckpt_io.new_checkpoint(
            config=self.cfg.to_dict(),
            epoch=self.epoch,
            step=self.step,
            partial=partial,
            model=self.raw_model.state_dict(),
            optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(),
            scaler=self.scaler.state_dict(),
            online=self.online.state_dict() if self.online is not None else None,
            best_accuracy=self.best_accuracy,
            best_epoch=self.best_epoch,
            history=self.history,
            classes=list(self.data.classes),
            world_size=self.ctx.world_size,
            rng=rngs,
        )
        ckpt_io.save_checkpoint(self.out_dir / "checkpoints" / name, ck)

    # -- phases --------------------------------------------------------------------------------------
    def _loader(self, dataset: SizedDataset, sampler: ShardSampler, batch: int, epoch: int) -> DataLoader[Any]:
        workers = self.cfg.data.workers
        return DataLoader(
            cast(Dataset[Any], dataset),
            batch_size=batch,
            sampler=sampler,
            num_workers=workers,
            collate_fn=self.data.collate,
            pin_memory=self.device.type == "cuda",
            worker_init_fn=seed_worker if workers else None,
            # worker seeds: a function of (seed, epoch, rank) only, so a resumed epoch draws the same
            generator=torch.Generator().manual_seed(
                self.cfg.train.seed * 100_003 + epoch * 1009 + self.ctx.rank),
        )

    def _bar(self, total: int, initial: int, desc: str) -> Any:
        return progress_bar(total, initial, desc, enabled=self.progress)

    def _oom(self, what: str, exc: BaseException) -> TrainingError:
        b = self.cfg.data.batch_size
        spec = self.cfg.data.integration
        if spec is None:  # a static image dataset: T is the encoder's steps
            frames, key, unit = self.cfg.data.steps, "steps", "time steps"
        else:
            frames, unit = spec.fixed_frames, "frames"
            # the argument that sets T (none for event_image, whose T is always 1)
            key = next((a for a in ("frames", "n_time_bins", "voxel_grid", "bina_rep") if getattr(spec, a) is not None),
                       None)
        t_hint = f" or fewer {unit} per sample (--set data.{key}={max(1, frames // 2)})" if frames and key else ""
        return TrainingError(
            f"out of memory at epoch {self.epoch + 1}, {what} (batch_size={b}"
            f"{f', T={frames}' if frames else ''}): try a smaller batch (--batch-size {max(1, b // 2)}){t_hint}"
            f"; original error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        )

    def train_epoch(self) -> bool:
        """Train the rest of epoch ``self.epoch``; False when stopped by a signal."""
        e = self.epoch
        self.train_sampler.set_epoch(e, start=self.step * self.rank_batch)
        loader = self._loader(self.data.train, self.train_sampler, self.rank_batch, e)
        per_epoch = self.train_sampler.share() * self.ctx.world_size
        bar = self._bar(per_epoch, min(per_epoch, self.step * self.cfg.data.batch_size),
                        f"epoch {e + 1}/{self.cfg.train.epochs} train")
        self.model.train()
        p = self.partial
        try:
            start = time.perf_counter()
            for batch in loader:
                try:
                    loss_value, correct, n, stop = self._train_step(batch)
                except Exception as exc:
                    if is_out_of_memory(exc):
                        raise self._oom(f"step {self.step + 1}", exc) from None
                    raise
                self.step += 1
                p["loss_sum"] += loss_value * n
                p["correct"] += correct
                p["count"] += n
                bar.update(n * self.ctx.world_size)
                bar.set_postfix(loss=f"{p['loss_sum'] / max(p['count'], 1):.4f}",
                                acc=f"{p['correct'] / max(p['count'], 1):.3f}", refresh=False)
                if stop:
                    p["seconds"] += time.perf_counter() - start
                    return False
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            p["seconds"] += time.perf_counter() - start
        finally:
            bar.close()
        return True

    def _train_step(self, batch: Any) -> tuple[float, float, int, bool]:
        """One optimizer step; the flag says a stop was requested (on any rank) before or during it.

        A requested stop is honoured after the step is applied, never by discarding a step whose forward
        pass already ran: that pass has moved BatchNorm running statistics and drawn dropout masks, so a
        discarded step would leave ``latest.pt`` in a state no uninterrupted run passes through.
        """
        seed = batch_seed(self.cfg.train.seed, self.epoch, self.step, self.ctx.rank)
        x, y, mask = to_device(batch, self.device, self.data.transform, seed)
        if self.online is not None:  # the optimizer steps inside, once per time step
            value, out = self.online(x, y, mask)
            reset_state(self.model)
            return value, float((predict(out, mask) == y).sum().item()), int(y.shape[0]), self.stop.requested
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp):
            out = self.model(x)
        loss = compute_loss(self.cfg.loss, out.float(), y, mask)
        value = float(loss.item())
        flags = all_reduce_sum([float(self.stop.requested), float(not math.isfinite(value))], self.ctx, self.device)
        if flags[1] > 0:
            raise TrainingError(
                f"loss is {value if not math.isfinite(value) else 'not finite on another process'} at epoch "
                f"{self.epoch + 1}, step {self.step + 1}: training diverged. Lower optimizer.lr, set "
                "train.grad_clip, or check the input data; the last good checkpoint is checkpoints/latest.pt"
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.cfg.train.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.train.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        reset_state(self.model)
        with torch.no_grad():
            correct = float((predict(out.detach(), mask) == y).sum().item())
        return value, correct, int(y.shape[0]), flags[0] > 0

    def evaluate(self) -> EvalResult:
        if self.ctx.distributed:  # evaluate the plain module (no DDP collectives) with rank 0's buffers
            for buf in self.raw_model.buffers():
                torch.distributed.broadcast(buf, src=0)
        loader = self._loader(self.data.test, self.test_sampler, self.rank_eval_batch, 0)
        # every rank polls for a stop on as many batches as the smallest share has
        polls = math.ceil((len(self.data.test) // self.ctx.world_size) / self.rank_eval_batch)
        bar = self._bar(len(self.data.test), 0, f"epoch {self.epoch + 1}/{self.cfg.train.epochs} test")
        try:
            return run_eval(
                self.raw_model, loader, self.cfg.loss, num_classes=self.num_classes, device=self.device,
                ctx=self.ctx, amp=self.amp, amp_dtype=self.amp_dtype,
                firing_rates=self.cfg.train.firing_rates, should_stop=lambda: self.stop.requested,
                stop_polls=polls, progress=bar, after_batch=reset_state, transform=self.data.transform,
                seed=eval_seed(self.cfg.train.seed, self.epoch),
            )
        except Exception as exc:
            if is_out_of_memory(exc):
                raise self._oom("evaluation", exc) from None
            raise
        finally:
            bar.close()

    def finish_epoch(self, result: EvalResult, metrics: MetricsWriter | None) -> dict[str, Any]:
        loss_sum, correct, count = all_reduce_sum(
            [self.partial["loss_sum"], self.partial["correct"], self.partial["count"]], self.ctx, self.device)
        seconds = self.partial["seconds"]
        row: dict[str, Any] = {
            "epoch": self.epoch + 1,
            "lr": float(self.optimizer.param_groups[0]["lr"]),
            "train_loss": loss_sum / max(count, 1),
            "train_accuracy": correct / max(count, 1),
            "test_loss": result.loss,
            "test_accuracy": result.accuracy,
            "test_top5_accuracy": result.top5_accuracy,
            "train_samples": int(count),
            "train_seconds": seconds,
            "test_seconds": result.seconds,
            "samples_per_s": count / seconds if seconds > 0 else 0.0,
        }
        if result.firing_rate:
            row["firing_rate"] = result.firing_rate
        if result.neurobench:
            row["neurobench"] = result.neurobench
        self.history.append(row)
        self.last_eval = result
        improved = result.accuracy > self.best_accuracy
        if improved:
            self.best_accuracy = result.accuracy
            self.best_epoch = self.epoch + 1
            self.best_eval = result
        self.scheduler.step()
        self.epoch += 1
        self.step = 0
        self.partial = {"loss_sum": 0.0, "correct": 0.0, "count": 0.0, "seconds": 0.0}
        if metrics is not None:
            metrics.log(row)
        if improved:
            self.checkpoint(ckpt_io.BEST)
        self.checkpoint(ckpt_io.LATEST)
        return row


def train(
    config: TrainConfig,
    *,
    resume: str | Path | None = None,
    stop_after: int | None = None,
    data: DataBundle | None = None,
    model: torch.nn.Module | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    prepare_workers: int | None = None,
    dask_scheduler: str | None = None,
) -> TrainResult:
    """Train ``config`` to its last epoch (or to ``stop_after`` completed epochs) and return the summary.

    Parameters
    ----------
    config
        The pipeline. With ``resume``, it must equal the checkpoint's apart from :data:`RESUMABLE_KEYS`.
    resume
        A checkpoint file or run folder to continue from; results go to that run folder.
    stop_after
        End this call once this many epochs are complete (the schedule still spans ``train.epochs``;
        continue later with ``resume``).
    data, model
        Use these instead of building them from ``config.data`` / ``config.model``.
    progress
        Show progress bars (rank 0 only).
    log
        Where one-line messages go (default: ``tqdm.write`` on rank 0).
    prepare_workers, dask_scheduler
        Passed to ``prepare`` when frames must be built.

    Raises
    ------
    ConfigError
        Invalid settings (named), or a resume that changes the math.
    TrainingError
        The loss became NaN/inf (names epoch and step) or memory ran out (suggests smaller sizes).
    """
    from tqdm.auto import tqdm

    t_start = time.perf_counter()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(config.train.device, local_rank)
    ctx = init_distributed(device)
    say = log or (tqdm.write if ctx.is_main else (lambda _msg: None))
    new_folder: Path | None = None
    try:
        ck: dict[str, Any] | None = None
        if resume is not None:
            ck = ckpt_io.load_checkpoint(resume)
            _check_resumable(TrainConfig.from_dict(ck["config"], source=f"{ck['path']} config"), config)
            if int(ck["epoch"]) >= config.train.epochs:
                return _complete(ck, config, ctx, t_start, say)
        if model is None:  # check the model section before any folder is made or data prepared
            resolve_model_kwargs(config.model)
        out_dir, created = _output_folder(config, ck, ctx)
        new_folder = out_dir if created else None
        with determinism(config.train.deterministic, device), StopRequest(say if ctx.is_main else None) as stop:
            seed_everything(config.train.seed)
            if data is None:
                data = build_data(config, ctx, progress=progress, workers=prepare_workers,
                                  scheduler=dask_scheduler)
            data = subset(data, config.data.limit_train, config.data.limit_test, config.train.seed)
            if model is None:
                model = build_model(config.model, num_classes=len(data.classes), sample=data.example()[0][:, 0])
            seed_everything(config.train.seed + ctx.rank)
            run = _Run(config, ctx, device, out_dir, data, model, progress, stop)
            if ck is not None:
                exact = run.restore(ck)
                say(f"resuming {ck['path']} at epoch {run.epoch + 1}, step {run.step}")
                if not exact:
                    say(f"note: the checkpoint was written by {ck.get('world_size', 1)} process(es), this run "
                        f"has {ctx.world_size}; random draws (and a resumed epoch's sample order) differ from an "
                        "uninterrupted run")
            return _loop(run, stop_after, t_start, say)
    except BaseException:
        note_failure()
        if new_folder is not None and ctx.is_main and not (new_folder / "checkpoints").exists():
            shutil.rmtree(new_folder, ignore_errors=True)  # failed before its first checkpoint: leave no stub
        raise


def _complete(ck: dict[str, Any], config: TrainConfig, ctx: DistContext, t_start: float,
              say: Callable[[str], None]) -> TrainResult:
    """The summary of a checkpoint that has finished every epoch (no data is built, nothing is written)."""
    path = Path(ck["path"])
    out = path.parent.parent if path.parent.name == "checkpoints" else path.parent
    history = [dict(r) for r in ck.get("history", [])]
    say(f"{path} is already complete ({int(ck['epoch'])}/{config.train.epochs} epochs); nothing to train")
    samples = sum(float(r["train_samples"]) for r in history)
    seconds = sum(float(r["train_seconds"]) for r in history)
    barrier(ctx)
    return TrainResult(
        best_accuracy=max(float(ck.get("best_accuracy", 0.0)), 0.0),
        best_epoch=int(ck.get("best_epoch", 0)),
        **_final_scores(history),
        epochs=int(ck["epoch"]),
        seconds=time.perf_counter() - t_start,
        samples_per_s=samples / seconds if seconds > 0 else 0.0,
        output=str(out.resolve()),
        already_complete=True,
        history=history,
    )


def _output_folder(config: TrainConfig, ck: dict[str, Any] | None, ctx: DistContext) -> tuple[Path, bool]:
    """The run folder (made, with ``config.toml``) and whether this call created it."""
    if config.train.output:
        out = Path(config.train.output).expanduser()
    elif ck is not None and Path(ck["path"]).parent.name == "checkpoints":
        out = Path(ck["path"]).parent.parent
    else:
        out = default_output(config.name)
    out = Path(broadcast_object(str(out.resolve()), ctx))
    created = not out.exists()
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.toml").write_text(config.to_toml(), encoding="utf-8")
    barrier(ctx)
    return out, created


def _loop(run: _Run, stop_after: int | None, t_start: float, say: Callable[[str], None]) -> TrainResult:
    cfg = run.cfg
    metrics = MetricsWriter(run.out_dir, run.history) if run.ctx.is_main else None
    last_epoch = cfg.train.epochs if stop_after is None else min(cfg.train.epochs, stop_after)
    trained = 0.0
    seconds = 0.0
    interrupted = False
    try:
        while run.epoch < last_epoch:
            if not run.train_epoch():
                interrupted = True
                break
            result = run.evaluate()
            if result.interrupted:
                interrupted = True
                break
            row = run.finish_epoch(result, metrics)
            trained += row["train_samples"]
            seconds += row["train_seconds"]
            say(_epoch_line(row, cfg.train.epochs))
        if interrupted:
            run.checkpoint(ckpt_io.LATEST)
            say(f"stopped at epoch {run.epoch + 1}, step {run.step}; saved "
                f"{run.out_dir / 'checkpoints' / ckpt_io.LATEST} (continue with --resume {run.out_dir})")
        if run.ctx.is_main and cfg.train.plots and run.history:
            _pictures(run, say)
    finally:
        if metrics is not None:
            metrics.close()
    barrier(run.ctx)
    return TrainResult(
        best_accuracy=max(run.best_accuracy, 0.0),
        best_epoch=run.best_epoch,
        **_final_scores(run.history),
        epochs=run.epoch,
        seconds=time.perf_counter() - t_start,
        samples_per_s=trained / seconds if seconds > 0 else 0.0,
        output=str(run.out_dir),
        interrupted=interrupted,
        history=run.history,
    )


def _final_scores(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The last epoch's test scores for :class:`TrainResult` (rows of older checkpoints may lack some)."""
    last = history[-1] if history else {}
    return {
        "final_accuracy": float(last.get("test_accuracy", 0.0)),
        "final_top5_accuracy": float(last.get("test_top5_accuracy", 0.0)),
        "neurobench": dict(last.get("neurobench", {})),
    }


def _epoch_line(row: dict[str, Any], epochs: int) -> str:
    return (f"epoch {row['epoch']}/{epochs}  lr {row['lr']:.3g}  train loss {row['train_loss']:.4f} "
            f"acc {row['train_accuracy']:.3f}  test loss {row['test_loss']:.4f} acc {row['test_accuracy']:.3f} "
            f"top-5 {row['test_top5_accuracy']:.3f}  {row['samples_per_s']:.1f} samples/s")


def _pictures(run: _Run, say: Callable[[str], None]) -> None:
    from eventpipe.train import plots
    from eventpipe.train.firing import record_spikes

    folder = run.out_dir / "plots"
    plots.plot_curves(run.history, folder / "curves.png", best_epoch=run.best_epoch or None)
    if run.best_eval is not None:  # the model in best.pt, which `eventpipe evaluate` uses
        plots.plot_confusion(run.best_eval.confusion, run.data.classes, folder / "confusion.png",
                             title=f"confusion matrix (test, best epoch {run.best_epoch} = best.pt)")
    elif run.last_eval is not None:
        plots.plot_confusion(run.last_eval.confusion, run.data.classes, folder / "confusion.png",
                             title=f"confusion matrix (test, epoch {run.epoch}; best.pt is epoch {run.best_epoch})")
    if any(r.get("firing_rate") for r in run.history):
        types = {name: type(m).__name__ for name, m in run.raw_model.named_modules()}
        plots.plot_firing_rates(run.history, folder / "firing_rates.png", layer_types=types)
    if len(run.data.test):
        x, y, _ = run.data.example("test", run.device)
        spikes = record_spikes(run.raw_model, x)
        reset_state(run.raw_model)
        if spikes:
            label = int(y[0])
            name = run.data.classes[label] if 0 <= label < len(run.data.classes) else str(label)
            plots.plot_spike_raster(spikes, folder / "spike_raster.png", title=f"test sample 0 (class {name})")
    say(f"pictures in {folder}")
