"""The single training job: it trains with run_training, reports events, stops cleanly."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from dnnexplorer.run import Run
from dnnexplorer.serve import create_app
from dnnexplorer.serve.jobs import TrainingJob
from dnnexplorer.serve.live import EventLog
from dnnexplorer.train import Callback, TrainConfig, resume_training
from dnnexplorer.train.runs import RunFolder

SMALL = {"model": "softmax", "epochs": 2, "batch_size": 16}  # 40 mini-batches per epoch


class At(Callback):
    """A listener doing `action()` once, at mini-batch `step` of `epoch`: exact timing."""

    def __init__(self, epoch: int, step: int, action) -> None:
        self.epoch, self.step, self.action = epoch, step, action

    def on_step_end(self, epoch: int, step: int, loss: float, correct: int, size: int) -> None:
        if (epoch, step) == (self.epoch, self.step):
            self.action()


class Gate:
    """Holds the training thread at one point until the test opens the gate."""

    def __init__(self) -> None:
        self.reached, self.open = threading.Event(), threading.Event()

    def __call__(self) -> None:
        self.reached.set()
        assert self.open.wait(30), "the test never opened the gate"


def kinds(job: TrainingJob) -> list[str]:
    return [kind for _, kind, _ in job.events.since(job.events.job_id, 0)[1]]


def test_a_job_trains_an_ordinary_run_folder_and_reports_its_progress(tmp_path, store) -> None:
    job = TrainingJob(tmp_path, store)
    job.start(TrainConfig(model="softmax", epochs=2).resolved(), "web-softmax")
    info = job.wait(60)
    assert info["status"] == "finished" and info["summary"]["epochs"] == 2

    run = RunFolder(tmp_path / "web-softmax")
    config = Run.load(run.path).config  # what eval, predict and the Draw page do
    assert config.model == "softmax" and len(run.read_metrics()) == 2

    seen = kinds(job)
    assert seen[:2] == ["job", "status"] and seen[-1] == "done"
    assert seen.count("epoch") == 2 and seen.count("test") >= 2 and "step" in seen
    assert seen.count("snapshot") == 1  # only the latest pictures are kept for a replay
    snapshot = next(d for _, k, d in job.events.since(info["id"], 0)[1] if k == "snapshot")
    layer = snapshot["first_layer"]
    assert layer["kind"] == "weights" and layer["titles"] == [str(d) for d in range(10)]
    assert len(snapshot["misclassified"]) == min(snapshot["wrong"], 24)


def test_a_cnn_job_shows_its_first_layer_filters(tmp_path, store) -> None:
    job = TrainingJob(tmp_path, store)
    options = {"channels": [6], "hidden": 8}
    job.start(TrainConfig(model="cnn", epochs=1, model_options=options).resolved(), "cnn")
    assert job.wait(60)["status"] == "finished"
    snapshot = next(d for _, k, d in job.events.since(job.events.job_id, 0)[1] if k == "snapshot")
    assert snapshot["first_layer"]["kind"] == "filters"
    assert len(snapshot["first_layer"]["images"]) == 6


def test_one_job_at_a_time_and_a_stopped_job_frees_the_lab(tmp_path, store) -> None:
    app = create_app(tmp_path, datasets=store)
    gate = Gate()
    app.state.job.listeners = [At(1, 2, gate)]
    with TestClient(app, base_url="http://127.0.0.1") as client:
        first = client.post("/api/train", json={**SMALL, "name": "first"})
        assert first.status_code == 202 and first.json()["run"] == "first"
        assert gate.reached.wait(60)
        second = client.post("/api/train", json={**SMALL, "name": "second"})
        assert second.status_code == 409
        assert "already running" in second.json()["error"] and "'first'" in second.json()["error"]
        assert not (tmp_path / "second").exists()

        assert client.post("/api/train/stop").json()["status"] == "stopping"
        gate.open.set()
        assert app.state.job.wait(60)["status"] == "stopped"
        assert client.get("/api/train").json()["status"] == "stopped"

        again = client.post("/api/train", json={"model": "softmax", "epochs": 1, "name": "third"})
        assert again.status_code == 202
        assert app.state.job.wait(60)["status"] == "finished"
        taken = client.post("/api/train", json={"name": "third"})
        assert taken.status_code == 409 and "already exists" in taken.json()["error"]
        bad_name = client.post("/api/train", json={"name": "../outside"})
        assert bad_name.status_code == 400


def test_stopping_in_the_first_epoch_leaves_a_resumable_run_folder(tmp_path, store) -> None:
    job = TrainingJob(tmp_path, store)
    job.listeners = [At(1, 3, job.stop)]
    job.start(TrainConfig(**SMALL).resolved(), "early")
    assert job.wait(60)["status"] == "stopped"
    assert not (tmp_path / "early" / "model.safetensors").exists()  # no epoch was finished
    steps = [d["step"] for _, k, d in job.events.since(job.events.job_id, 0)[1] if k == "step"]
    assert max(steps, default=0) <= 4  # it stopped right after the step it was told at

    result = resume_training(tmp_path / "early", dataset=store.get("mnist"))
    assert result.summary["complete"] and result.summary["epochs"] == 2


class StopAtTrainStart(Callback):
    """Presses Stop once the loop has started, before its first mini-batch; counts the steps."""

    def __init__(self, stop) -> None:
        self.stop, self.steps = stop, 0

    def on_train_start(self, state) -> None:
        self.stop()

    def on_step_end(self, epoch: int, step: int, loss: float, correct: int, size: int) -> None:
        self.steps += 1


def test_stopping_before_the_first_step_stops_after_it(tmp_path, store) -> None:
    """The loop hands every listener its state before any step (on_train_start), so the live
    listener can always stop it through `state.stop_requested`: after one mini-batch."""
    job = TrainingJob(tmp_path, store)
    pressed = StopAtTrainStart(job.stop)
    job.listeners = [pressed]
    job.start(TrainConfig(**SMALL).resolved(), "at-once")
    assert job.wait(60)["status"] == "stopped"
    assert pressed.steps == 1  # the first mini-batch, then the stop
    summary = RunFolder(tmp_path / "at-once").read_summary()
    assert summary is not None and summary["epochs"] == 0 and not summary["complete"]


def test_stopping_after_an_epoch_keeps_it_and_resume_finishes_the_run(tmp_path, store) -> None:
    job = TrainingJob(tmp_path, store)
    job.listeners = [At(2, 5, job.stop)]
    job.start(TrainConfig(**SMALL).resolved(), "late")
    info = job.wait(60)
    assert info["status"] == "stopped"
    summary = RunFolder(tmp_path / "late").read_summary()
    assert summary["epochs"] == 1 and not summary["complete"]

    result = resume_training(tmp_path / "late", dataset=store.get("mnist"))
    assert result.summary["complete"] and len(result.history) == 2


def test_shutdown_stops_the_running_job(tmp_path, store) -> None:
    gate = Gate()
    job = TrainingJob(tmp_path, store, listeners=[At(1, 2, gate)])
    job.start(TrainConfig(**SMALL).resolved(), "shut")
    assert gate.reached.wait(60)
    threading.Timer(0.2, gate.open.set).start()  # the step ends while shutdown waits
    job.shutdown(timeout=60)
    assert not job.running and job.info()["status"] == "stopped"


def test_a_diverging_job_fails_with_the_loops_message(tmp_path, store) -> None:
    job = TrainingJob(tmp_path, store)
    config = TrainConfig(model="softmax", epochs=1, optimizer="sgd", lr=1e38, schedule="constant")
    job.start(config.resolved(), "diverge")
    info = job.wait(60)
    assert info["status"] == "failed" and "diverged" in info["error"]
    assert kinds(job)[-1] == "done"


def test_the_event_log_replays_everything_but_old_pictures() -> None:
    log = EventLog()
    assert log.since(0, 0) == (0, [])
    log.reset(1)
    for kind in ("job", "step", "snapshot", "step", "snapshot", "done"):
        log.append(kind, {"kind": kind})
    job_id, events = log.since(1, 0)
    assert job_id == 1 and [i for i, _, _ in events] == [0, 1, 3, 4, 5]
    assert [i for i, _, _ in log.since(1, 4)[1]] == [4, 5]
    log.reset(2)
    log.append("job", {})
    assert log.since(1, 5) == (2, [(0, "job", {})])  # a newer job is replayed from its start


def test_the_runs_page_sees_a_job_in_progress(tmp_path: Path, store) -> None:
    app = create_app(tmp_path, datasets=store)
    gate = Gate()
    app.state.job.listeners = [At(2, 1, gate)]
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.post("/api/train", json={**SMALL, "name": "live"})
        assert gate.reached.wait(60)
        row = client.get("/api/runs").json()[0]
        assert row["name"] == "live" and row["epochs"] == 1 and row["planned_epochs"] == 2
        assert row["has_weights"] and row["training"] and not row["complete"]
        prediction = client.post("/api/runs/live/predict", content=stroke_png())
        assert prediction.status_code == 200  # the Draw page can use a run still training
        gate.open.set()
        assert app.state.job.wait(60)["status"] == "finished"
        row = client.get("/api/runs").json()[0]
        assert row["complete"] and not row["training"]


def stroke_png() -> bytes:
    image = Image.new("L", (100, 100), "white")
    ImageDraw.Draw(image).line([(50, 15), (50, 85)], fill="black", width=8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
