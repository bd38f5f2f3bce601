"""`dnnx serve` as a user runs it: a real process, a real port, Ctrl-C."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dnnexplorer.serve.guard import is_loopback
from dnnexplorer.train.runs import RunFolder

TOKEN = "test-token-0123456789abcdef"  # given with --token, so the tests can send it


def dnnx(*args: object) -> list[str]:
    """`python -m dnnexplorer serve ...` as a command line."""
    return [sys.executable, "-m", "dnnexplorer", *map(str, args)]


def start_lab(port: int, *args: object, token: str | None = TOKEN) -> subprocess.Popen:
    """`dnnx serve --port PORT ARGS` (with --token TOKEN unless token is None), once it answers."""
    given = ("--token", token) if token else ()
    process = subprocess.Popen(
        dnnx("serve", "--port", port, *given, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if request(port, "GET", "/api/train", token=token)[0] in (200, 401):
                return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"dnnx serve did not start: {process.communicate()}")
        time.sleep(0.2)


def request(
    port: int, method: str, path: str, form: dict | None = None, token: str | None = TOKEN
) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps(form) if form is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    connection.request(method, path, body, headers)
    response = connection.getresponse()
    answer = response.status, json.loads(response.read())
    connection.close()
    return answer


def interrupt(process: subprocess.Popen) -> tuple[int, str, str]:
    """Ctrl-C, then wait for the lab to finish shutting down."""
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("lab.example.org", False),
    ],
)
def test_only_loopback_addresses_count_as_local(host, loopback) -> None:
    assert is_loopback(host) is loopback


def test_the_lab_binds_to_localhost_and_stops_on_ctrl_c(tmp_path, live_port) -> None:
    process = start_lab(live_port, "--runs", tmp_path / "runs")
    page = http.client.HTTPConnection("127.0.0.1", live_port, timeout=30)
    page.request("GET", "/api/train/events", headers={"Authorization": f"token {TOKEN}"})
    stream = page.getresponse()
    received = b""
    while b"event: idle" not in received:
        received += stream.read1(1000)
    start = time.monotonic()
    code, out, err = interrupt(process)
    assert code == 0 and "Traceback" not in err, err
    assert time.monotonic() - start < 30  # the open stream does not hold the server up
    assert f"http://127.0.0.1:{live_port}/" in out and "lab stopped" in out
    assert "warning" not in err and (tmp_path / "runs").is_dir()
    page.close()


def test_an_open_host_prints_a_warning(tmp_path, live_port) -> None:
    process = start_lab(live_port, "--host", "0.0.0.0", "--runs", tmp_path)
    code, _, err = interrupt(process)
    assert code == 0 and "warning: the lab listens on 0.0.0.0" in err


def test_a_new_token_guards_the_lab_and_appears_only_in_the_printed_address(
    tmp_path, live_port
) -> None:
    """No --token: a random one; every request without it is refused; it is printed once."""
    process = start_lab(live_port, "--runs", tmp_path, token=None)
    first = process.stdout.readline()
    assert first.startswith(f"dnnx lab on http://127.0.0.1:{live_port}/?token="), first
    token = first.split("?token=")[1].split()[0]
    assert len(token) >= 40
    for path in ("/", "/runs", "/learn/filters", "/api/runs", "/api/train", "/static/lab.js"):
        status, answer = request(live_port, "GET", path, token=None)
        assert status == 401 and "needs its token" in answer["error"], path
    assert request(live_port, "GET", "/api/runs", token=token[:-1] + "x")[0] == 401
    assert request(live_port, "POST", "/api/train", {"model": "softmax"}, token=None)[0] == 401
    assert request(live_port, "GET", "/api/runs", token=token)[0] == 200

    visit = http.client.HTTPConnection("127.0.0.1", live_port, timeout=30)
    visit.request("GET", f"/train?token={token}")  # the printed address, as a browser opens it
    answer = visit.getresponse()
    answer.read()
    assert answer.status == 303 and answer.getheader("Location") == "/train"
    cookie = answer.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    visit.request("GET", "/train", headers={"Cookie": cookie.split(";")[0]})
    page = visit.getresponse()
    assert page.status == 200 and b"<html" in page.read()
    visit.close()
    code, out, err = interrupt(process)
    assert code == 0, err
    assert (first + out + err).count(token) == 1  # the printed address, nowhere else


def test_no_token_is_loud_and_a_short_token_is_refused(tmp_path, live_port) -> None:
    process = start_lab(live_port, "--runs", tmp_path, "--no-token", token=None)
    assert request(live_port, "GET", "/api/runs", token=None)[0] == 200
    code, out, err = interrupt(process)
    assert code == 0 and "WARNING: --no-token" in err and "?token=" not in out
    for args, message in (
        (("--token", "short"), "at least 16 characters"),
        (("--token", "a" * 20 + "<>"), "only letters, digits"),
        (("--token", TOKEN, "--no-token"), "contradict"),
    ):
        result = subprocess.run(dnnx("serve", *args), capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_a_bad_port_is_a_one_line_usage_error() -> None:
    result = subprocess.run(dnnx("serve", "--port", "70000"), capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("dnnx: error:") and "--port" in result.stderr


@pytest.mark.slow
def test_ctrl_c_while_training_leaves_a_resumable_run(tmp_path, live_port, data_root) -> None:
    runs = tmp_path / "runs"
    process = start_lab(live_port, "--runs", runs, "--data-dir", data_root)
    # 3750 mini-batches an epoch: Ctrl-C lands in epoch 2 even on a fast machine.
    form = {"model": "softmax", "epochs": 2, "batch_size": 16, "name": "interrupted"}
    assert request(live_port, "POST", "/api/train", form)[0] == 202
    run = runs / "interrupted"
    deadline = time.monotonic() + 300  # a busy shared CPU can be very slow
    while not (run / "metrics.jsonl").is_file():  # the first epoch has been saved
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    code, _, err = interrupt(process)
    assert code == 0, err

    summary = RunFolder(run).read_summary()
    assert summary is not None and not summary["complete"] and summary["epochs"] == 1
    resumed = subprocess.run(
        dnnx("train", "--resume", run, "--data-dir", data_root, "--json"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    final = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert final["complete"] and final["epochs"] == 2
    assert len(RunFolder(run).read_metrics()) == 2
    assert Path(run, "model.safetensors").is_file()
