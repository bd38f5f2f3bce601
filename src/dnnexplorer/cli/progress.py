"""Progress listeners for the terminal: a live bar per epoch, or plain lines when piped."""

from __future__ import annotations

import sys
import time

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dnnexplorer.train.loop import Callback, EpochMetrics, TrainingState


def epoch_line(m: EpochMetrics, epochs: int) -> str:
    """One epoch: train, then test (or, with --val-size, validation: the test set waits)."""
    line = f"epoch {m.epoch}/{epochs}  train loss {m.train_loss:.4f} acc {m.train_accuracy:.2%}"
    if m.test_accuracy is not None:
        line += f"  test loss {m.test_loss:.4f} acc {m.test_accuracy:.2%}"
    if m.val_accuracy is not None:
        line += f"  val loss {m.val_loss:.4f} acc {m.val_accuracy:.2%}"
    return line + f"  {m.seconds:.1f}s  {m.examples_per_second:,.0f} ex/s"


class PlainProgress(Callback):
    """One line per epoch: what a log file or a SLURM output file should hold."""

    def __init__(self, epochs: int, err: bool = False) -> None:
        self.epochs, self.err = epochs, err

    def on_epoch_end(self, state: TrainingState, metrics: EpochMetrics) -> None:
        click.echo(epoch_line(metrics, self.epochs), err=self.err)

    # `with make_progress(...) as progress:` restores the terminal even if training fails.
    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None: ...


class BarProgress(PlainProgress):
    """A live bar per epoch with the running loss, accuracy and examples per second."""

    def __init__(self, epochs: int, err: bool = False) -> None:
        super().__init__(epochs, err)
        self.console = Console(stderr=err)
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.4f}  acc {task.fields[acc]:.2%}"),
            TextColumn("{task.fields[rate]:,.0f} ex/s"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )

    def on_epoch_start(self, epoch: int, num_steps: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task(
            "train", total=num_steps, epoch=epoch, epochs=self.epochs, loss=0.0, acc=0.0, rate=0.0
        )
        self.start, self.seen, self.correct, self.loss = time.perf_counter(), 0, 0, None

    def on_step_end(self, epoch: int, step: int, loss: float, correct: int, size: int) -> None:
        self.seen += size
        self.correct += correct
        # An exponential moving average shows the trend without the mini-batch noise.
        self.loss = loss if self.loss is None else 0.95 * self.loss + 0.05 * loss
        rate = self.seen / max(time.perf_counter() - self.start, 1e-9)
        self.progress.update(
            self.task, advance=1, loss=self.loss, acc=self.correct / self.seen, rate=rate
        )

    def on_epoch_end(self, state: TrainingState, metrics: EpochMetrics) -> None:
        self.progress.remove_task(self.task)
        self.progress.stop()
        self.console.print(epoch_line(metrics, self.epochs), highlight=False)

    def close(self) -> None:
        self.progress.stop()


def make_progress(epochs: int, err: bool = False) -> PlainProgress:
    """A live bar on a terminal, plain lines otherwise (a pipe, a log, a batch job)."""
    stream = sys.stderr if err else sys.stdout
    return BarProgress(epochs, err) if stream.isatty() else PlainProgress(epochs, err)
