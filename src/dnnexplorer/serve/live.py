"""The Train page's live view of a run: a listener to the training loop, and its event log.

`LiveListener` is one more `Callback` of the one training loop, beside the checkpoint writer:
it turns steps and epochs into events, and now and then evaluates the test set and draws the
first layer's weights and the digits it gets wrong, the dashboard that made "TensorFlow without
a PhD" memorable. Events go to an `EventLog` that keeps the whole run's history, so a page that
disconnects and comes back (a reload, a second tab) replays it and then follows live.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import torch

from dnnexplorer.data import Dataset
from dnnexplorer.serve import pictures
from dnnexplorer.train import Callback, EpochMetrics, TrainingState
from dnnexplorer.train.loop import evaluate

STEP_EVERY_S = 0.2  # at most five step events a second: a smooth curve, a small history
SMOOTHING = 2000  # examples: the train curve averages over about this many
PROBE_SHARE = 0.05  # live test evaluations may take at most 5% of the training time
MIN_PROBE_GAP_S = 1.0
MISCLASSIFIED_SHOWN = 24


class EventLog:
    """The current job's events, in order; a reader can replay them from any index.

    Pictures are large and only the latest matter, so a new 'snapshot' event replaces the
    previous one in the log; all other events (steps, test points, epochs) are kept.
    """

    def __init__(self) -> None:
        self.job_id = 0  # 0: no job since the server started
        self._events: list[tuple[str, dict[str, Any]] | None] = []
        self._last_snapshot: int | None = None
        self._lock = threading.Lock()

    def reset(self, job_id: int) -> None:
        with self._lock:
            self.job_id, self._events, self._last_snapshot = job_id, [], None

    def append(self, kind: str, data: dict[str, Any]) -> None:
        with self._lock:
            if kind == "snapshot":
                if self._last_snapshot is not None:
                    self._events[self._last_snapshot] = None
                self._last_snapshot = len(self._events)
            self._events.append((kind, data))

    def since(self, job_id: int, start: int) -> tuple[int, list[tuple[int, str, dict[str, Any]]]]:
        """(current job id, its events from `start` on); a newer job is replayed from 0.

        So is this job for a reader asking beyond its end (an id it cannot have seen): waiting
        for that index would show it nothing for most of the job.
        """
        with self._lock:
            if job_id != self.job_id or start > len(self._events):
                start = 0
            events = [
                (i, e[0], e[1])
                for i, e in enumerate(self._events[start:], start=start)
                if e is not None
            ]
            return self.job_id, events


class LiveListener(Callback):
    """Turns the training loop's progress into events for the Train page; stops it on request."""

    def __init__(self, events: EventLog, dataset: Dataset, stop: threading.Event) -> None:
        self.events, self.dataset, self.stop = events, dataset, stop
        self.classes = list(dataset.classes)
        self.state: TrainingState | None = None
        self._test_on: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}
        self._next_probe = 0.0
        self.smooth_loss: float | None = None  # running averages, across epochs
        self.smooth_accuracy = 0.0

    def on_train_start(self, state: TrainingState) -> None:
        """Keep the state: its `stop_requested` is how the listener stops the loop."""
        self.state = state

    def on_epoch_start(self, epoch: int, num_steps: int) -> None:
        self.epoch, self.num_steps = epoch, num_steps
        self.epoch_start = self.last_event = time.perf_counter()
        self.seen = 0
        self._next_probe = self.epoch_start + MIN_PROBE_GAP_S

    def on_step_end(self, epoch: int, step: int, loss: float, correct: int, size: int) -> None:
        self.seen += size
        self._smooth(loss, correct / size, size)
        now = time.perf_counter()
        if now - self.last_event >= STEP_EVERY_S or step == self.num_steps:
            self._emit_step(step, now)
        if self.stop.is_set():
            self.state.stop_requested = True  # the loop ends cleanly after this step
        elif now >= self._next_probe:
            self._probe(epoch - 1 + step / self.num_steps)

    def on_epoch_end(self, state: TrainingState, metrics: EpochMetrics) -> None:
        self.events.append("epoch", metrics.to_dict())
        self._probe(float(metrics.epoch))

    def _smooth(self, loss: float, accuracy: float, size: int) -> None:
        """Running averages over about the last SMOOTHING examples, whatever the batch size.

        One mini-batch's loss is noisy (the smaller the batch, the noisier): the curve shows
        the trend, as a progress bar's moving average does.
        """
        if self.smooth_loss is None:
            self.smooth_loss, self.smooth_accuracy = loss, accuracy
            return
        keep = math.exp(-size / SMOOTHING)  # a batch of `size` examples weighs 1 - keep
        self.smooth_loss = keep * self.smooth_loss + (1 - keep) * loss
        self.smooth_accuracy = keep * self.smooth_accuracy + (1 - keep) * accuracy

    def _emit_step(self, step: int, now: float) -> None:
        self.events.append(
            "step",
            {
                "epoch": self.epoch,
                "step": step,
                "steps": self.num_steps,
                "x": self.epoch - 1 + step / self.num_steps,  # in epochs, e.g. 1.25
                "loss": self.smooth_loss,
                "accuracy": self.smooth_accuracy,
                "examples_per_second": self.seen / max(now - self.epoch_start, 1e-9),
            },
        )
        self.last_event = now

    def _test_set(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if device not in self._test_on:
            self._test_on[device] = (
                self.dataset.test_images.to(device),
                self.dataset.test_labels.to(device),
            )
        return self._test_on[device]

    def _probe(self, x: float) -> None:
        """Evaluate the test set now; send the test point, first-layer pictures and mistakes."""
        start = time.perf_counter()
        model = self.state.model
        device = next(model.parameters()).device
        images, labels = self._test_set(device)
        result = evaluate(model, images, labels, self.dataset.mean, self.dataset.std)
        wrong = (result.predictions != labels).nonzero().flatten().cpu()  # (n_wrong,)
        self.events.append(
            "test", {"x": x, "loss": result.loss, "accuracy": result.accuracy, "wrong": len(wrong)}
        )
        first_layer = pictures.first_layer_pictures(model, self.classes)
        predictions = result.predictions.cpu()
        misclassified = [
            {
                "image": pictures.gray_picture(self.dataset.test_images[i].float() / 255),
                "true": self.classes[int(self.dataset.test_labels[i])],
                "predicted": self.classes[int(predictions[i])],
            }
            for i in wrong[:MISCLASSIFIED_SHOWN].tolist()
        ]
        self.events.append(
            "snapshot",
            {
                "x": x,
                "first_layer": first_layer.to_dict() if first_layer else None,
                "misclassified": misclassified,
                "wrong": len(wrong),
            },
        )
        cost = time.perf_counter() - start
        self._next_probe = time.perf_counter() + max(MIN_PROBE_GAP_S, cost / PROBE_SHARE)
