"""The lab's limits on what one request may ask: epochs, model size, images, malformed input.

Each test here sends what a careless or hostile page could send, through HTTP, and checks the
answer is a 4xx JSON error that says what is wrong (never a 500, a hang, or gigabytes used).
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import socket
import subprocess
import sys
import threading

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from dnnexplorer.errors import ConfigError
from dnnexplorer.serve import create_app, forms
from dnnexplorer.serve.app import close_streams
from dnnexplorer.serve.forms import config_from_form
from dnnexplorer.serve.live import EventLog
from dnnexplorer.train import Callback, run_training

SMALL = {"model": "softmax", "epochs": 2, "batch_size": 16}
ACCEPTED = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "PPM")  # PPM: the Inside page's PGM drawings


@pytest.fixture
def limits():
    """The module under test (imported here, so each test fails alone without it)."""
    from dnnexplorer.serve import limits

    return limits


def image_bytes(format: str, size: tuple[int, int] = (100, 100), mode: str = "L") -> bytes:
    """A black stroke on white, saved by Pillow in `format`."""
    image = Image.new(mode, size, "white")
    ImageDraw.Draw(image).line([(size[0] // 2, 15), (size[0] // 2, size[1] - 15)], "black", 8)
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def lab(runs, store, **options) -> TestClient:
    """A client that sees a server error as a 500 answer, as a browser would."""
    app = create_app(runs, datasets=store, **options)
    return TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)


def is_json_error(answer, status: int | None = None) -> bool:
    in_range = 400 <= answer.status_code < 500 if status is None else answer.status_code == status
    json_type = answer.headers.get("content-type", "").startswith("application/json")
    return in_range and json_type and "error" in answer.json()


# -- the Train form ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"epochs": 51}, ["epochs", "50"]),
        ({"epochs": "1e9"}, ["epochs"]),
        ({"model": "mlp", "hidden": "250000"}, ["hidden", "4096"]),
        ({"model": "cnn", "hidden": "5000"}, ["hidden", "4096"]),
        ({"model": "mlp", "hidden": ",".join(["8"] * 11)}, ["hidden", "10 hidden layers"]),
        ({"model": "mlp", "hidden": "4096,4096,4096"}, ["parameters", "20,000,000"]),
        ({"model": "mlp", "hidden": "4096,4096", "activation": "maxout"}, ["parameters"]),
    ],
)
def test_forms_over_the_labs_limits_are_refused_naming_the_field_and_limit(
    tmp_path, store, form, words
) -> None:
    with lab(tmp_path, store) as client:
        answer = client.post("/api/train", json={**form, "name": "too-big"})
    assert is_json_error(answer, 422), answer.text
    assert all(word in answer.json()["error"] for word in words), answer.json()
    assert not (tmp_path / "too-big").exists()


def test_the_limits_themselves_are_allowed() -> None:
    config, _ = config_from_form({"model": "mlp", "hidden": "4096,2048", "epochs": 50})
    assert config.epochs == 50 and config.model_options["hidden"] == [4096, 2048]
    config, _ = config_from_form({"model": "cnn", "hidden": "4096"})
    assert config.model_options["hidden"] == 4096


def test_an_instructor_can_set_other_limits(tmp_path, store, limits) -> None:
    small = limits.Limits(epochs=3, hidden_size=64)
    with lab(tmp_path, store, limits=small) as client:
        assert client.post("/api/train", json={"epochs": 4}).status_code == 422
        answer = client.post("/api/train", json={"model": "mlp", "hidden": "65", "epochs": 1})
        assert is_json_error(answer, 422) and "64" in answer.json()["error"]
        assert client.get("/api/choices").json()["limits"]["epochs"] == 3


def test_the_train_form_is_told_the_limits(client) -> None:
    told = client.get("/api/choices").json()["limits"]
    assert told == {
        "epochs": 50,
        "hidden_size": 4096,
        "hidden_layers": 10,
        "parameters": 20_000_000,
        "image_pixels": 16_000_000,
    }
    page = client.get("/train").text
    assert 'id="epochs" name="epochs" type="number" min="1"' in page
    script = client.get("/static/train.js").text
    assert "limits.epochs" in script and "limits.hidden_size" in script


@pytest.mark.parametrize(
    "text", ["epochs=abc", "epochs", "colour=3", "epochs=0", "parameters=-5", "epochs=1.5"]
)
def test_bad_limit_settings_are_config_errors(limits, text) -> None:
    with pytest.raises(ConfigError, match="--limit"):
        limits.Limits.parse([text])


def test_limit_settings_change_only_the_named_limit(limits) -> None:
    changed = limits.Limits.parse(["epochs=100", "image_pixels=1000000"])
    assert (changed.epochs, changed.image_pixels, changed.hidden_size) == (100, 1_000_000, 4096)
    assert limits.UPLOAD_FORMATS == ACCEPTED


def test_serve_help_names_every_limit_with_its_default(limits) -> None:
    from dnnexplorer.cli.serve import LIMITS_HELP

    for name, default in limits.LIMITS.to_dict().items():
        assert f"{name} ({default}" in LIMITS_HELP, name


# -- one job at a time, decided before anything is built -----------------------------------


class Gate(Callback):
    """Holds the training thread at its second mini-batch until the test opens the gate."""

    def __init__(self) -> None:
        self.reached, self.open = threading.Event(), threading.Event()

    def on_step_end(self, epoch: int, step: int, loss: float, correct: int, size: int) -> None:
        if (epoch, step) == (1, 2):
            self.reached.set()
            assert self.open.wait(30)


def test_a_second_job_is_refused_before_its_model_is_sized(tmp_path, store, monkeypatch) -> None:
    app = create_app(tmp_path, datasets=store)
    gate = Gate()
    app.state.job.listeners = [gate]
    built = []
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.post("/api/train", json={**SMALL, "name": "first"}).status_code == 202
        assert gate.reached.wait(60)
        real = forms.create_model
        monkeypatch.setattr(forms, "create_model", lambda *a, **k: built.append(a))
        form = {"model": "mlp", "hidden": "4096,4096", "name": "second"}
        second = client.post("/api/train", json=form)
        assert is_json_error(second, 409) and "already running" in second.json()["error"]
        assert built == [] and not (tmp_path / "second").exists()
        monkeypatch.setattr(forms, "create_model", real)
        gate.open.set()
        assert app.state.job.wait(60)["status"] == "finished"


def test_the_model_is_sized_off_the_event_loop(tmp_path, store, monkeypatch) -> None:
    """Sizing a model must not hold up every other request of the lab while it runs."""
    on_the_loop = []
    real = forms.create_model

    def recording(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            on_the_loop.append(True)
        except RuntimeError:
            on_the_loop.append(False)
        return real(*args, **kwargs)

    monkeypatch.setattr(forms, "create_model", recording)
    with lab(tmp_path, store) as client:
        answer = client.post("/api/train", json={"model": "mlp", "hidden": "16", "epochs": 1})
        assert answer.status_code == 202
        client.app.state.job.wait(60)
    assert on_the_loop == [False]


def test_the_lab_sizes_the_model_without_allocating_its_weights(monkeypatch) -> None:
    """20 million parameters are counted on PyTorch's meta device: no memory, no time."""
    sized = []
    real = forms.create_model

    def recording(*args, **kwargs):
        model = real(*args, **kwargs)
        sized.append(next(model.parameters()).device.type)
        return model

    monkeypatch.setattr(forms, "create_model", recording)
    config_from_form({"model": "mlp", "hidden": "4096,4000"})
    assert sized == ["meta"]


# -- uploads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("format", ACCEPTED)
def test_every_accepted_image_format_is_read(client, format) -> None:
    answer = client.post("/api/runs/softmax-a/predict", content=image_bytes(format))
    assert answer.status_code == 200, answer.text


EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n%%EndComments\n"
    b"newpath 10 4 moveto 10 24 lineto stroke\nshowpage\n%%EOF\n"
)


@pytest.mark.parametrize(
    "body",
    [EPS, image_bytes("TIFF"), image_bytes("PCX"), image_bytes("ICO", (64, 64)), b"not an image"],
    ids=["eps", "tiff", "pcx", "ico", "junk"],
)
@pytest.mark.parametrize("route", ["predict", "activations"])
def test_other_formats_are_refused_before_any_plugin_reads_them(
    trained_runs, store, body, route
) -> None:
    with lab(trained_runs, store) as client:
        answer = client.post(f"/api/runs/cnn-b/{route}", content=body)
    assert is_json_error(answer, 415), answer.text
    assert (
        "not an image of an accepted format (PNG, JPEG, WEBP, GIF, BMP or PPM)"
        in answer.json()["error"]
    )


def test_images_over_the_pixel_limit_are_refused_from_their_header(trained_runs, store) -> None:
    """17.6 megapixels in a 20 KB PNG: refused before it is decoded (the default: 16)."""
    big = image_bytes("PNG", (4200, 4200))
    assert len(big) < 200_000
    with lab(trained_runs, store) as client:
        for route in ("predict", "activations"):
            answer = client.post(f"/api/runs/cnn-b/{route}", content=big)
            assert is_json_error(answer, 422), answer.text
            error = answer.json()["error"]
            assert "too large" in error and "4200x4200" in error and "16 megapixels" in error


def test_the_pixel_limit_is_the_labs(trained_runs, store, limits) -> None:
    with lab(trained_runs, store, limits=limits.Limits(image_pixels=90_000)) as client:
        assert client.post("/api/runs/cnn-b/predict", content=image_bytes("PNG")).is_success
        answer = client.post("/api/runs/cnn-b/predict", content=image_bytes("PNG", (301, 300)))
        assert is_json_error(answer, 422) and "0.09 megapixels" in answer.json()["error"]


# -- damaged run folders ------------------------------------------------------------------------

DAMAGE = {
    "list-config": {"config.json": "[]"},
    "null-config": {"config.json": "null"},
    "junk-config": {"config.json": "\x00\xff junk"},
    "text-config": {"config.json": '"softmax"'},
    "odd-config": {"config.json": '{"model": "softmax", "epochs": "many"}'},
    "unknown-config": {"config.json": '{"colour": "red"}'},
    "list-summary": {"summary.json": "[]"},
    "null-metrics": {"metrics.jsonl": "null\n"},
    "junk-metrics": {"metrics.jsonl": '{"epoch": 1, "seconds": "slow"}\n'},
    "cut-metrics": {"metrics.jsonl": '{"epoch": 1, "sec'},
}
BROKEN_WEIGHTS = {"junk-weights": {"model.safetensors": "junk"}}  # listed fine: not read there


@pytest.fixture
def damaged_runs(tmp_path, trained_runs):
    """A good run, and beside it one copy of it per kind of damage (one file overwritten)."""
    shutil.copytree(trained_runs / "softmax-a", tmp_path / "good")
    for name, files in (DAMAGE | BROKEN_WEIGHTS).items():
        shutil.copytree(trained_runs / "softmax-a", tmp_path / name)
        for file, text in files.items():
            (tmp_path / name / file).write_text(text, encoding="utf-8")
    return tmp_path


def test_damaged_run_folders_are_listed_as_damaged_and_the_others_still_show(
    damaged_runs, store
) -> None:
    with lab(damaged_runs, store) as client:
        answer = client.get("/api/runs")
    assert answer.status_code == 200, answer.text
    rows = {row["name"]: row for row in answer.json()}
    assert rows["good"]["model"] == "softmax" and "error" not in rows["good"]
    for name in DAMAGE:
        assert "error" in rows[name] and "model" not in rows[name], rows[name]


@pytest.mark.parametrize("name", DAMAGE | BROKEN_WEIGHTS)
def test_every_route_on_a_damaged_run_answers_json(damaged_runs, store, name) -> None:
    with lab(damaged_runs, store) as client:
        for method, path, body in [
            ("GET", f"/api/runs/{name}", None),
            ("GET", f"/api/runs/{name}/analysis", None),
            ("GET", f"/api/runs/{name}/layers", None),
            ("GET", f"/api/runs/{name}/activations?test=0", None),
            ("POST", f"/api/runs/{name}/predict", image_bytes("PNG")),
            ("POST", f"/api/runs/{name}/activations", image_bytes("PNG")),
        ]:
            answer = client.request(method, path, content=body)
            ok = answer.status_code == 200 or is_json_error(answer)
            assert ok, (method, path, answer.status_code, answer.text)


# -- malformed requests -----------------------------------------------------------------------

MALFORMED = {
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "deep object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "huge number": b'{"epochs": ' + b"9" * 10_000 + b"}",
    "not utf-8": b"\xff\xfe\x00{",
    "junk": b"{not json",
    "empty": b"",
    "a list": b"[1, 2]",
    "nested form": b'{"hidden": [[[[1]]]], "lr": {"a": 1}, "name": ["x"]}',
    "infinite epochs": b'{"epochs": 1e400}',
    "NaN": b'{"lr": NaN, "seed": -Infinity}',
    "giant seed": b'{"seed": 1e300}',
}


def post_routes(app) -> list[str]:
    """Every route of the lab that takes a POST, with a run name where it needs one."""
    return [
        route.path.replace("{name:path}", "softmax-a")
        for route in app.routes
        if "POST" in getattr(route, "methods", ())
    ]


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies_get_a_4xx_json_error_on_every_post_route(
    trained_runs, store, body
) -> None:
    with lab(trained_runs, store) as client:
        routes = post_routes(client.app)
        assert "/api/train" in routes and "/api/runs/softmax-a/predict" in routes
        for route in routes:
            if route == "/api/train/stop":
                continue  # takes no body: any body is ignored
            for kind in ("application/json", "image/png"):
                answer = client.post(route, content=body, headers={"Content-Type": kind})
                assert is_json_error(answer), (route, kind, answer.status_code, answer.text)


def test_a_deeply_nested_form_says_it_is_not_valid_json(client) -> None:
    answer = client.post(
        "/api/train", content=MALFORMED["deep"], headers={"Content-Type": "application/json"}
    )
    assert is_json_error(answer, 400) and "nested too deeply" in answer.json()["error"]


@pytest.mark.parametrize(
    "query",
    ["test=x", "test=99999999999999999999999999", "test=-1", "seed=1e99", "seed=-3"],
)
def test_bad_query_values_get_a_4xx_json_error(trained_runs, store, query) -> None:
    with lab(trained_runs, store) as client:
        for path in ("/api/runs/cnn-b/activations", "/api/learn/regression"):
            answer = client.get(f"{path}?{query}")
            assert answer.status_code == 200 or is_json_error(answer), (path, answer.text)


@pytest.mark.parametrize(
    "last_id", ["abc.5", "1.x", "x", "-1.2", "1.2.3", "9" * 5000 + ".1", "1." + "9" * 5000]
)
def test_a_bad_last_event_id_gets_a_4xx_json_error(trained_runs, store, last_id) -> None:
    with lab(trained_runs, store) as client:
        close_streams(client.app)  # so that a stream accepted by mistake ends at once
        answer = client.get("/api/train/events", headers={"Last-Event-ID": last_id})
    assert is_json_error(answer, 400), answer.text
    assert "Last-Event-ID" in answer.json()["error"]


def test_an_event_id_beyond_the_log_replays_the_job_instead_of_waiting_forever() -> None:
    log = EventLog()
    log.reset(1)
    for kind in ("job", "status", "done"):
        log.append(kind, {})
    assert [i for i, _, _ in log.since(1, 3)[1]] == []  # up to date: nothing missed
    assert [i for i, _, _ in log.since(1, 999_999)[1]] == [0, 1, 2]  # not this job's: all


def test_a_good_last_event_id_is_still_accepted(trained_runs, store) -> None:
    with lab(trained_runs, store) as client:
        close_streams(client.app)
        answer = client.get("/api/train/events", headers={"Last-Event-ID": "3.41"})
    assert answer.status_code == 200 and answer.text.startswith("retry:")


def test_even_a_bug_of_the_lab_answers_json(trained_runs, store, monkeypatch) -> None:
    with lab(trained_runs, store) as client:

        def broken() -> list:
            raise RuntimeError("a bug")

        monkeypatch.setattr(client.app.state.catalog, "rows", broken)
        answer = client.get("/api/runs")
    assert answer.status_code == 500 and answer.json() == {"error": "internal error: RuntimeError"}


# -- dnnx serve on a port that is taken ---------------------------------------------------------


def test_a_busy_port_is_one_line_and_no_address_is_printed(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "dnnexplorer", "serve", "--port", str(port), "--runs", tmp_path],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2, result
    assert result.stderr.strip() == (
        f"dnnx: error: port {port} is in use; choose another with --port"
    )
    assert "http://" not in result.stdout and "Traceback" not in result.stderr


def test_training_a_form_at_the_limits_really_runs(tmp_path, store) -> None:
    """The limits stop nothing the course asks for: the recipes all fit."""
    for model in ("softmax", "mlp", "cnn", "lenet5", "best"):
        config, _ = config_from_form({"model": model})
        assert config.epochs <= 50
    config, _ = config_from_form({"model": "mlp", "hidden": "16", "epochs": 1})
    result = run_training(config, out_dir=tmp_path / "run", dataset=store.get("mnist"))
    assert result.summary["complete"]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"] == "mlp"
