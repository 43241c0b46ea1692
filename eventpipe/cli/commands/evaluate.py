"""``eventpipe evaluate CHECKPOINT``: test accuracy (top-1, top-5), confusion matrix and NeuroBench's
metrics of a trained model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from eventpipe.cli.app import app
from eventpipe.cli.common import JsonOption, RootOption, state


@app.command("evaluate")
def evaluate_command(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint file (.pt), or a run folder for its "
                                               "checkpoints/latest.pt (pass .../checkpoints/best.pt for the best epoch).")],
    split: Annotated[str | None, typer.Option(
        "--split", metavar="SPLIT", show_default=False, help="Split to evaluate (default: the run's test split).")] = None,
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", "-b", min=1, show_default=False, help="Samples per batch (default: the run's).")] = None,
    device: Annotated[str, typer.Option(
        "--device", metavar="DEVICE", help="Where to run: auto, cpu, cuda or cuda:N.")] = "auto",
    workers: Annotated[int | None, typer.Option(
        "--workers", min=0, show_default=False, help="DataLoader worker processes (default: the run's).")] = None,
    out: Annotated[Path | None, typer.Option("--out", metavar="PNG", help="Also write the confusion matrix as a PNG here.",
                                             show_default=False)] = None,
    root: RootOption = None,
    json_out: JsonOption = False,
) -> None:
    """Evaluate a checkpoint on its dataset's test split: top-1 and top-5 accuracy, loss, confusion matrix,
    firing rates and NeuroBench's metrics (activation sparsity, synaptic operations, connection sparsity,
    footprint)."""
    from eventpipe.cli.tables import format_table
    from eventpipe.train.evaluation import evaluate_checkpoint
    from eventpipe.train.neurobench import summary_text

    report = evaluate_checkpoint(checkpoint, split=split, batch_size=batch_size, device=device, root=root,
                                 workers=workers, progress=not state()["quiet"])
    if out is not None:
        from eventpipe.train.plots import plot_confusion

        plot_confusion(report.result.confusion, report.classes, out,
                       title=f"confusion matrix ({report.split}, epoch {report.epoch})")
    if json_out:
        typer.echo(json.dumps(report.summary()))
        return
    r = report.result
    typer.echo(f"{report.checkpoint} (epoch {report.epoch}) on {report.split}: accuracy {r.accuracy:.4f} "
               f"({int(r.confusion.trace())}/{r.count}), top-{r.top_k} accuracy {r.top5_accuracy:.4f}, "
               f"loss {r.loss:.4f}")
    rows = []
    for i, name in enumerate(report.classes):
        row: dict[str, object] = {"true \\ predicted": name}
        row.update({str(j): int(v) for j, v in enumerate(r.confusion[i])})
        total = int(r.confusion[i].sum())
        row["recall"] = float(r.confusion[i, i] / total) if total else 0.0
        rows.append(row)
    typer.echo(format_table(rows))
    if r.firing_rate:
        typer.echo(format_table([{"layer": k, "firing rate": v} for k, v in r.firing_rate.items()]))
    if r.neurobench:
        typer.echo(f"NeuroBench: {summary_text(r.neurobench)}")
    if out is not None:
        typer.echo(f"confusion matrix: {out}")
