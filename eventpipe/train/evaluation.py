"""One pass over a loader without gradients: loss, top-1 and top-5 accuracy, confusion matrix, firing
rates and NeuroBench's efficiency metrics (:mod:`eventpipe.train.neurobench`).

Sums are reduced over all processes, so every rank returns the totals of the whole split.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from eventpipe.train.config import LossConfig
from eventpipe.train.data import BatchTransform, batch_seed, to_device
from eventpipe.train.ddp import DistContext, all_reduce_tensor, any_rank
from eventpipe.train.firing import FiringRateRecorder
from eventpipe.train.losses import compute_loss, firing_rate
from eventpipe.train.neurobench import WorkloadRecorder, static_metrics

TOP_K = 5
"""The k of the top-k accuracy; with fewer classes it is their number (every prediction is then correct)."""


@dataclass
class EvalResult:
    """Totals of one evaluation pass; ``confusion[i, j]`` counts samples of class i predicted as j.

    ``accuracy`` is the top-1 accuracy; ``top5_accuracy`` counts a sample correct when its class is among
    the ``top_k`` highest firing rates (``top_k = min(5, classes)``). ``neurobench`` holds
    :mod:`eventpipe.train.neurobench`'s metrics (empty when not measured).
    """

    loss: float
    accuracy: float
    count: int
    confusion: np.ndarray
    firing_rate: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False
    top5_accuracy: float = 0.0
    top_k: int = TOP_K
    neurobench: dict[str, Any] = field(default_factory=dict)


def class_ranks(scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Rank of each sample's true class among ``scores [N, C]`` (0 = the prediction), ``[N]``.

    Ties are broken by class index, as ``argmax`` does, so rank 0 is exactly a correct top-1 prediction
    and the top-k accuracy never counts a tied class twice.
    """
    true = scores.gather(1, target[:, None])
    index = torch.arange(scores.shape[1], device=scores.device)
    ahead = (scores > true) | ((scores == true) & (index < target[:, None]))
    return ahead.sum(1)


def eval_seed(seed: int, epoch: int) -> int:
    """The seed of the test pass after epoch ``epoch`` (0-based) of a run seeded with ``seed``."""
    return batch_seed(seed, epoch, -1)


def reset_state(model: torch.nn.Module) -> None:
    """Clear neuron state kept between calls (a no-op for stateless multi-step networks)."""
    from eventpipe.snn import functional

    if isinstance(model, torch.nn.parallel.DistributedDataParallel):
        model = model.module
    functional.reset_net(model)


def run_eval(
    model: torch.nn.Module,
    loader: DataLoader[Any],
    loss_cfg: LossConfig,
    *,
    num_classes: int,
    device: torch.device,
    ctx: DistContext,
    amp: bool = False,
    amp_dtype: torch.dtype = torch.bfloat16,
    firing_rates: bool = True,
    neurobench: bool = True,
    should_stop: Callable[[], bool] | None = None,
    stop_polls: int | None = None,
    progress: Any = None,
    after_batch: Callable[[torch.nn.Module], None] | None = None,
    transform: BatchTransform | None = None,
    seed: int = 0,
) -> EvalResult:
    """Evaluate ``model`` on every batch of ``loader`` (this rank's share), reduced over ranks.

    ``should_stop`` is polled after each of the first ``stop_polls`` batches (default: every batch), on
    all ranks together, so ``stop_polls`` must not exceed any rank's batch count; when it answers True
    the pass ends early with ``interrupted=True``. ``progress`` is a tqdm bar updated with samples, or None.
    ``after_batch`` runs after each forward (e.g. a state reset for stateful networks). ``neurobench``
    counts NeuroBench's metrics on the way (forward hooks; see :mod:`eventpipe.train.neurobench`).
    ``transform`` finishes each batch on the device (:func:`eventpipe.train.data.to_device`), batch ``k``
    of rank ``r`` with the seed ``batch_seed(seed, k, r)``.
    """
    start = time.perf_counter()
    was_training = model.training
    model.eval()
    sums = torch.zeros(3, dtype=torch.float64, device=device)  # loss * n, n, top-k correct
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.float64, device=device)
    inner = model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model
    recorder = FiringRateRecorder(inner) if firing_rates else None
    workload = WorkloadRecorder(inner) if neurobench else None
    top_k = min(TOP_K, num_classes)
    interrupted = False
    try:
        with torch.no_grad():
            for k, batch in enumerate(loader):
                x, y, mask = to_device(batch, device, transform, batch_seed(seed, k, ctx.rank))
                if recorder is not None:
                    recorder.set_mask(mask)
                if workload is not None:
                    workload.begin_batch(mask)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                    out = model(x)
                loss = compute_loss(loss_cfg, out.float(), y, mask)
                if after_batch is not None:
                    after_batch(model)
                n = y.shape[0]
                sums[0] += loss.double() * n
                sums[1] += n
                scores = firing_rate(out, mask)  # what losses.predict takes the arg-max of
                sums[2] += (class_ranks(scores, y) < top_k).sum()
                pred = scores.argmax(-1)
                confusion += torch.bincount(y * num_classes + pred, minlength=num_classes**2).double()
                if progress is not None:
                    progress.update(n * ctx.world_size)
                polled = should_stop is not None and (stop_polls is None or k < stop_polls)
                if polled and should_stop is not None and any_rank(should_stop(), ctx, device):
                    interrupted = True
                    break
        rates = recorder.rates(ctx, device) if recorder is not None else {}
        efficiency = {**static_metrics(inner), **workload.result(ctx, device)} if workload is not None else {}
    finally:
        if recorder is not None:
            recorder.remove()
        if workload is not None:
            workload.remove()
        model.train(was_training)
    all_reduce_tensor(sums, ctx)
    all_reduce_tensor(confusion, ctx)
    cm = confusion.view(num_classes, num_classes).round().long().cpu().numpy()
    count = int(sums[1].item())
    return EvalResult(
        loss=float(sums[0].item() / max(count, 1)),
        accuracy=float(np.trace(cm) / max(count, 1)),
        count=count,
        confusion=cm,
        firing_rate=rates,
        seconds=time.perf_counter() - start,
        interrupted=interrupted,
        top5_accuracy=float(sums[2].item() / max(count, 1)),
        top_k=top_k,
        neurobench=efficiency,
    )


@dataclass
class CheckpointEvaluation:
    """What ``eventpipe evaluate`` reports for one checkpoint and split."""

    checkpoint: str
    split: str
    epoch: int
    classes: tuple[str, ...]
    result: EvalResult

    def summary(self) -> dict[str, Any]:
        r = self.result
        return {
            "checkpoint": self.checkpoint,
            "split": self.split,
            "epoch": self.epoch,
            "accuracy": r.accuracy,
            "top5_accuracy": r.top5_accuracy,
            "top_k": r.top_k,
            "loss": r.loss,
            "samples": r.count,
            "classes": list(self.classes),
            "confusion": r.confusion.tolist(),
            "firing_rate": r.firing_rate,
            "neurobench": r.neurobench,
        }


def evaluate_checkpoint(
    checkpoint: str | Path,
    *,
    split: str | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    root: str | Path | None = None,
    workers: int | None = None,
    progress: bool = True,
    data: Any = None,
    model: torch.nn.Module | None = None,
) -> CheckpointEvaluation:
    """Top-1/top-5 accuracy, loss, confusion matrix, firing rates and NeuroBench's metrics of a checkpoint's
    model on a split.

    The dataset, integration (or encoder) and model come from the checkpoint's stored config; ``split``
    defaults to its test split. ``data`` (a :class:`~eventpipe.train.data.DataBundle`) and ``model``
    replace what the config would build (the checkpoint's weights are loaded into ``model``). Batches are
    made as in training: a static dataset's encoder draws the spikes of the test pass that ended the
    checkpoint's epoch.
    """
    from eventpipe.train.checkpoint import load_checkpoint
    from eventpipe.train.config import TrainConfig
    from eventpipe.train.data import build_data
    from eventpipe.train.ddp import DistContext
    from eventpipe.train.progress import progress as progress_bar
    from eventpipe.train.runtime import autocast_dtype, resolve_device, seed_worker
    from eventpipe.train.sampling import ShardSampler

    ck = load_checkpoint(checkpoint)
    overrides: dict[str, Any] = {}
    if split is not None:
        overrides["data.test_split"] = split
    if root is not None:
        overrides["data.root"] = str(root)
    if workers is not None:
        overrides["data.workers"] = workers
    config = TrainConfig.from_dict(ck["config"], source=f"{ck['path']} config")
    if overrides:
        config = config.replace_from(overrides, source=f"{ck['path']} config with overrides")
    ctx = DistContext()
    dev = resolve_device(device)
    if data is None:
        data = build_data(config, ctx, progress=progress, workers=workers)
    classes = tuple(ck.get("classes") or data.classes)
    if model is None:
        from eventpipe.train.build import build_model

        model = build_model(config.model, num_classes=len(classes), sample=data.example("test")[0][:, 0])
    model.load_state_dict(ck["model"])
    model.to(dev)
    n_workers = config.data.workers
    loader = DataLoader(
        data.test,
        batch_size=batch_size or config.data.eval_batch_size or config.data.batch_size,
        sampler=ShardSampler(len(data.test), shuffle=False, pad=False),
        num_workers=n_workers,
        collate_fn=data.collate,
        worker_init_fn=seed_worker if n_workers else None,
        pin_memory=dev.type == "cuda",
    )
    bar = progress_bar(len(data.test), 0, f"evaluate {config.data.test_split}", enabled=progress)
    try:
        result = run_eval(model, loader, config.loss, num_classes=len(classes), device=dev, ctx=ctx,
                          amp=config.train.amp, amp_dtype=autocast_dtype(dev),
                          firing_rates=config.train.firing_rates, progress=bar, after_batch=reset_state,
                          transform=data.transform, seed=eval_seed(config.train.seed, max(int(ck["epoch"]) - 1, 0)))
    finally:
        bar.close()
    return CheckpointEvaluation(checkpoint=str(ck["path"]), split=config.data.test_split,
                                epoch=int(ck["epoch"]), classes=classes, result=result)
