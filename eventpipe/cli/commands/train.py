"""``eventpipe train``: train a pipeline (default: the bundled ``demo``), with any key overridden."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from eventpipe.cli.app import app
from eventpipe.cli.common import JsonOption, RootOption, SchedulerOption, state

if TYPE_CHECKING:
    from eventpipe.train.loop import TrainResult


@app.command("train")
def train_command(
    pipeline: Annotated[
        str | None,
        typer.Option("--pipeline", "-p", metavar="FILE|NAME", help="Pipeline TOML file, or a bundled name (cifar10dvs, demo, "
                     "demo_static, dvs128_gesture, mnist_fc_lif, nmnist, shd); default: demo.", show_default=False),
    ] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, metavar="N", help="Number of epochs (sets train.epochs).")] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", "-b", min=1, metavar="N",
                                 help="Samples per step over all processes (sets data.batch_size).")
    ] = None,
    lr: Annotated[float | None, typer.Option("--lr", metavar="LR", help="Learning rate (sets optimizer.lr).")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=0, metavar="N",
                                 help="DataLoader processes, also used by prepare (sets data.workers).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, metavar="N", help="Random seed (sets train.seed).")] = None,
    amp: Annotated[bool | None, typer.Option("--amp/--no-amp", help="Mixed precision on or off (sets train.amp).",
                                             show_default=False)] = None,
    device: Annotated[str | None, typer.Option("--device", metavar="auto|cpu|cuda|cuda:N", help="Device to train on (sets train.device).")] = None,
    backend: Annotated[str | None, typer.Option(
        "--backend", metavar="auto|torch|numba|cupy|triton",
        help="Neuron backend (sets model.backend); auto picks numba on a CPU and triton, then cupy, then torch "
             "on a GPU.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="DIR", help="Run folder (sets train.output).",
                                                show_default=False)] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="SECTION.KEY=VALUE", help="Override any key of the pipeline; "
                     "repeatable (e.g. --set model.channels=32 --set loss.name=tet)."),
    ] = None,
    resume: Annotated[
        Path | None, typer.Option("--resume", metavar="RUN", help="Continue a run from its folder or a checkpoint file.",
                                  show_default=False)
    ] = None,
    stop_after: Annotated[
        int | None, typer.Option("--stop-after", min=1, metavar="N", help="End once N epochs are complete "
                                 "(the schedule still spans train.epochs; continue with --resume).")
    ] = None,
    root: RootOption = None,
    scheduler: SchedulerOption = None,
    json_out: JsonOption = False,
) -> None:
    """Train a spiking network: prepare data if missing, train and test every epoch, save checkpoints,
    metrics (CSV/JSONL) and pictures in the run folder (default runs/<pipeline>-<timestamp>).

    Ctrl-C stops after the current step and saves checkpoints/latest.pt; continue with --resume.
    Multi-GPU: torchrun --nproc_per_node N -m eventpipe train ...
    """
    from eventpipe.train.checkpoint import load_checkpoint
    from eventpipe.train.config import TrainConfig, load_config, parse_assignment
    from eventpipe.train.loop import train
    from eventpipe.train.pipelines import resolve_pipeline

    values: dict[str, Any] = dict(parse_assignment(a) for a in overrides or [])
    shortcuts = {
        "train.epochs": epochs, "data.batch_size": batch_size, "optimizer.lr": lr, "data.workers": workers,
        "train.seed": seed, "train.amp": amp, "train.device": device, "model.backend": backend,
        "train.output": str(output) if output is not None else None,
        "data.root": str(root) if root is not None else None,
    }
    values.update({k: v for k, v in shortcuts.items() if v is not None})

    if resume is not None and pipeline is None:
        ck = load_checkpoint(resume)
        config = TrainConfig.from_dict(ck["config"], source=f"{ck['path']} config")
        if values:
            config = config.replace_from(values, source="--resume with overrides")
    else:
        config = load_config(resolve_pipeline(pipeline), values)

    quiet = state()["quiet"]
    log = None
    if quiet:
        log = _silent
    elif json_out:  # stdout carries only the JSON object
        log = _to_stderr
    result = train(config, resume=resume, stop_after=stop_after, progress=not quiet, log=log,
                   prepare_workers=workers or None, dask_scheduler=scheduler)
    if not _is_main_process():
        return
    if json_out:
        typer.echo(json.dumps(result.summary()))
    else:
        typer.echo(_summary_line(result))
    if result.interrupted:
        raise typer.Exit(code=130)


def _summary_line(result: TrainResult) -> str:
    if not result.history:
        return (f"stopped before the first epoch completed (no test accuracy yet); run folder {result.output}, "
                f"continue with --resume {result.output}")
    from eventpipe.train.neurobench import summary_text

    scores = (f"best test accuracy {result.best_accuracy:.4f} (epoch {result.best_epoch}), final "
              f"{result.final_accuracy:.4f} (top-5 {result.final_top5_accuracy:.4f})")
    if result.already_complete:
        line = (f"{result.output} is already complete ({result.epochs} epochs): {scores}; trained at "
                f"{result.samples_per_s:.1f} samples/s")
    else:
        line = (f"{scores}; {result.epochs} epochs in {result.seconds:.1f} s, {result.samples_per_s:.1f} "
                f"samples/s; run folder {result.output}")
    if result.neurobench:
        line += f"\nNeuroBench (test, final epoch): {summary_text(result.neurobench)}"
    return line


def _is_main_process() -> bool:
    import os

    return os.environ.get("RANK", "0") == "0"


def _silent(message: str) -> None:
    return None


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
