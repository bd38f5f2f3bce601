"""The web lab's one training job: `run_training` on a worker thread, watched live.

The job calls the same `run_training` as `dnnx train`, so the finished run is an ordinary run
folder; a `LiveListener` (see `live.py`) reports its progress to the Train page. Only one job
runs at a time; the lab's Stop button and Ctrl-C on the server both ask it to stop after the
current mini-batch, leaving a run folder that `dnnx train --resume` continues.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dnnexplorer.errors import DnnxError, RunError
from dnnexplorer.fileio import LOCK_FILE
from dnnexplorer.serve.catalog import DatasetStore, check_run_name
from dnnexplorer.serve.live import EventLog, LiveListener
from dnnexplorer.train import Callback, TrainConfig, run_training

log = logging.getLogger(__name__)

FINISHED = ("finished", "stopped", "failed")


class JobBusy(DnnxError):
    """A training job is already running (the web lab runs one at a time)."""


class TrainingJob:
    """The single training job of the web lab, run on one worker thread."""

    def __init__(
        self, runs_root: str | Path, datasets: DatasetStore, listeners: Sequence[Callback] = ()
    ) -> None:
        self.runs_root = Path(runs_root)
        self.datasets = datasets
        self.listeners = list(listeners)  # more listeners for every job, after the live one
        self.events = EventLog()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._info: dict[str, Any] = {"id": 0, "status": "idle"}

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def info(self) -> dict[str, Any]:
        """The job's id, status, run name and config (status 'idle' before the first job)."""
        with self._lock:
            return dict(self._info)

    def refuse_if_busy(self) -> None:
        """JobBusy if a job is running: checked before a new form is checked, so a second
        start is refused at once and builds nothing."""
        with self._lock:
            self._refuse_if_busy()

    def _refuse_if_busy(self) -> None:
        if self.running:
            raise JobBusy(
                f"a training job is already running (run {self._info['run']!r}); "
                "stop it or wait until it finishes"
            )

    def start(self, config: TrainConfig, name: str) -> dict[str, Any]:
        """Start training `config` into the run folder `name`; JobBusy if a job is running.

        The model is built on the job's thread (by `run_training`), never by the caller.
        """
        check_run_name(name)
        out_dir = self.runs_root / name
        with self._lock:
            self._refuse_if_busy()  # again: another start may have come in meanwhile
            if out_dir.exists() and any(p.name != LOCK_FILE for p in out_dir.iterdir()):
                raise RunError(f"a run named {name!r} already exists; choose another name")
            job_id = self._info["id"] + 1
            self._stop = threading.Event()
            self._info = {"id": job_id, "status": "loading data", "run": name}
            self._info["config"] = config.to_dict()
            self.events.reset(job_id)
            self.events.append("job", dict(self._info))
            self._thread = threading.Thread(
                target=self._run,
                args=(config, out_dir, self._stop),
                name=f"dnnx-training-{job_id}",
                daemon=True,
            )
            self._thread.start()
            return dict(self._info)

    def stop(self) -> dict[str, Any]:
        """Ask the running job to stop after its current mini-batch (no-op when none runs)."""
        if self.running and not self._stop.is_set():
            self._stop.set()
            self._set_status("stopping")
        return self.info()

    def shutdown(self, timeout: float = 60.0) -> None:
        """Stop the job and wait for it (server shutdown): its run folder stays resumable."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self.stop()
            thread.join(timeout)

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait until the current job has ended; return its info."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.info()

    def _set_status(self, status: str, **extra: Any) -> None:
        with self._lock:  # one at a time, so the events say the statuses in their order
            if status == "stopping" and self._info["status"] in FINISHED:
                return  # the job ended while Stop was being pressed
            self._info.update(status=status, **extra)
            kind = "done" if status in FINISHED else "status"
            self.events.append(kind, {"status": status, **extra})

    def _run(self, config: TrainConfig, out_dir: Path, stop: threading.Event) -> None:
        try:
            dataset = self.datasets.get(config.dataset)
            if stop.is_set():
                self._set_status("stopped")  # stopped while loading: no run folder made
                return
            self._set_status("training")
            listener = LiveListener(self.events, dataset, stop)
            callbacks = [listener, *self.listeners]
            result = run_training(config, out_dir=out_dir, callbacks=callbacks, dataset=dataset)
            done = "finished" if result.summary["complete"] else "stopped"
            self._set_status(done, summary=result.summary)
        except DnnxError as e:
            self._set_status("failed", error=str(e))
        except Exception as e:  # a bug: keep the server alive, say what happened
            log.exception("training job failed")
            self._set_status("failed", error=f"internal error: {type(e).__name__}: {e}")
