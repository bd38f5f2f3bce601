"""`dnnx serve` as a user runs it: a real process, a real port, Ctrl-C."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dnnexplorer.cli.serve import is_loopback
from dnnexplorer.train.runs import RunFolder


def dnnx(*args: object) -> list[str]:
    """`python -m dnnexplorer serve ...` as a command line."""
    return [sys.executable, "-m", "dnnexplorer", *map(str, args)]


def start_lab(port: int, *args: object) -> subprocess.Popen:
    process = subprocess.Popen(
        dnnx("serve", "--port", port, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if request(port, "GET", "/api/train")[0] == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"dnnx serve did not start: {process.communicate()}")
        time.sleep(0.2)


def request(port: int, method: str, path: str, form: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps(form) if form is not None else None
    connection.request(method, path, body, {"Content-Type": "application/json"})
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
    page.request("GET", "/api/train/events")  # a Train page left open
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


def test_an_open_host_prints_a_warning_that_there_is_no_login(tmp_path, live_port) -> None:
    process = start_lab(live_port, "--host", "0.0.0.0", "--runs", tmp_path)
    code, _, err = interrupt(process)
    assert code == 0 and "warning: the lab has no login" in err


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
