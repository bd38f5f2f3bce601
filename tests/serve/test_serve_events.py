"""The Train page's live stream over a real socket: server-sent events, disconnects, reattaching."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from dnnexplorer.serve import create_app
from dnnexplorer.train import Callback

SMALL = {"model": "softmax", "epochs": 2, "batch_size": 16}


class GateAt(Callback):
    """Holds the training thread at (epoch, step) until the test opens the gate."""

    def __init__(self, epoch: int, step: int) -> None:
        self.at = (epoch, step)
        self.reached, self.open = threading.Event(), threading.Event()

    def on_step_end(self, epoch: int, step: int, loss: float, correct: int, size: int) -> None:
        if (epoch, step) == self.at:
            self.reached.set()
            assert self.open.wait(30)


class Stream:
    """A browser's EventSource, by hand: one GET, then events as (id, kind, data)."""

    def __init__(self, base: str, last_event_id: str | None = None) -> None:
        url = urlsplit(base)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.connection.request("GET", "/api/train/events", headers=headers)
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("content-type").startswith("text/event-stream")

    def events(self) -> Iterator[tuple[str | None, str, dict]]:
        fields: dict[str, str] = {}
        while True:
            line = self.response.readline().decode()
            assert line, "the server closed the stream"
            line = line.rstrip("\n")
            if line:
                name, _, value = line.partition(": ")
                fields[name] = value
            elif "event" in fields:
                yield fields.get("id"), fields["event"], json.loads(fields["data"])
                fields = {}
            else:
                fields = {}  # a retry line or a comment

    def until(self, kind: str) -> list[tuple[str | None, str, dict]]:
        seen = []
        for event in self.events():
            seen.append(event)
            if event[1] == kind:
                return seen
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def lab(tmp_path, store, live_server):
    app = create_app(tmp_path, datasets=store)
    with live_server(app) as base:
        yield app, base


def without_pictures(events: list) -> list[str]:
    """Event kinds, leaving out snapshots (a replay keeps only the latest pictures)."""
    return [kind for _, kind, _ in events if kind != "snapshot"]


def post(base: str, path: str, form: dict) -> tuple[int, dict]:
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    body = json.dumps(form)
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = response.status, json.loads(response.read())
    connection.close()
    return answer


def test_a_page_opened_before_any_job_hears_idle(lab) -> None:
    _, base = lab
    stream = Stream(base)
    _, kind, data = next(stream.events())
    assert kind == "idle" and data["status"] == "idle"
    stream.close()


def test_a_client_that_disconnects_does_not_stop_the_job_and_reattaches(lab) -> None:
    app, base = lab
    gate = GateAt(2, 1)
    app.state.job.listeners = [gate]
    assert post(base, "/api/train", {**SMALL, "name": "streamed"})[0] == 202

    first = Stream(base)
    before = first.until("epoch")  # the whole first epoch, live
    assert before[0][1] == "job" and before[0][2]["run"] == "streamed"
    first.close()  # the browser tab goes away mid-run
    assert gate.reached.wait(60)

    again = Stream(base)  # a reload: the whole history is replayed, then it follows live
    replay = again.until("epoch")
    assert without_pictures(replay) == without_pictures(before)
    gate.open.set()
    rest = again.until("done")
    again.close()
    assert rest[-1][2]["status"] == "finished" and [k for _, k, _ in rest].count("epoch") == 1
    assert app.state.job.wait(60)["status"] == "finished"

    # EventSource reconnects with Last-Event-ID: only what came after it is sent.
    last_id = replay[-1][0]
    resumed = Stream(base, last_event_id=last_id)
    after = resumed.until("done")
    resumed.close()
    assert without_pictures(after) == without_pictures(rest)
    assert all(int(e[0].split(".")[1]) > int(last_id.split(".")[1]) for e in after)


def test_a_new_job_restarts_the_stream_with_its_job_event(lab) -> None:
    app, base = lab
    post(base, "/api/train", {**SMALL, "epochs": 1, "name": "one"})
    stream = Stream(base)
    stream.until("done")
    app.state.job.wait(60)
    assert post(base, "/api/train", {**SMALL, "epochs": 1, "name": "two"})[0] == 202
    _, kind, data = next(stream.events())
    assert kind == "job" and data["run"] == "two" and data["id"] == 2
    assert stream.until("done")[-1][2]["status"] == "finished"
    stream.close()
