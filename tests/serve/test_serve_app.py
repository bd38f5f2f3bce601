"""The web lab's API through FastAPI's test client: pages, runs, predictions, bad input."""

from __future__ import annotations

import base64
import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from dnnexplorer.predict import predict_images, to_mnist
from dnnexplorer.run import Run
from dnnexplorer.serve import create_app
from dnnexplorer.serve.guard import is_loopback
from dnnexplorer.serve.pages import PAGES, STATIC, Page
from dnnexplorer.train.runs import RunFolder


def png_of_a_stroke(size: int = 280, mode: str = "L") -> bytes:
    """A drawing like the Draw page's: a black vertical stroke on a white canvas, as PNG."""
    image = Image.new(mode, (size, size), "white")
    ImageDraw.Draw(image).line([(size // 2, 40), (size // 2, size - 40)], fill="black", width=18)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# -- pages and static files --------------------------------------------------------------


@pytest.mark.parametrize("route", ["/", "/train", "/runs"])
def test_pages_are_served_with_a_policy_allowing_only_the_lab_itself(client, route) -> None:
    page = client.get(route)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<canvas" in page.text and '"static/vendor/chart.umd.min.js"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def navigation_of(html: str) -> str:
    """A page's header links, without the mark on its own section."""
    return re.search(r"<nav>.*?</nav>", html)[0].replace(' class="current"', "")


def test_one_shell_and_one_list_build_every_pages_head_and_navigation(client) -> None:
    sections = [p for p in PAGES if p.section == p.route]
    assert [p.title for p in sections] == ["Draw", "Train", "Runs", "Learn"]
    links = "".join(f'<a href="{p.route.lstrip("/") or "./"}">{p.title}</a>' for p in sections)
    for page in PAGES:
        html = client.get(page.route).text
        assert html.startswith("<!doctype html>") and html.count("<main") == 1
        assert html.count("<title>") == 1 and html.index("<title>") < html.index("</head>")
        assert f"<title>{page.title} · dnnx lab</title>" in html
        assert "<!--head-->" not in html and "<!--main-->" not in html
        assert navigation_of(html) == f"<nav>{links}</nav>"  # the same links on every page
        assert html.count('class="current"') == 1  # see <base>: links are relative
        assert f'<a href="{page.section.lstrip("/") or "./"}" class="current">' in html


def test_a_new_page_is_one_line_in_the_list(trained_runs, tmp_path) -> None:
    """A page file and its line in PAGES: every page links it, and it is served in the shell."""
    (tmp_path / "quiz.html").write_text(
        '<script src="static/lab.js" defer></script>\n<main><h1>A quiz</h1></main>\n'
    )
    quiz = Page("/quiz", str(tmp_path / "quiz.html"), "Quiz", "/quiz")  # a file outside static/
    lab = TestClient(create_app(trained_runs, pages=(*PAGES, quiz)), base_url="http://127.0.0.1")
    for page in (*PAGES, quiz):
        html = lab.get(page.route).text
        assert navigation_of(html).endswith(
            '<a href="learn">Learn</a><a href="quiz">Quiz</a></nav>'
        )
    html = lab.get("/quiz").text
    assert "<title>Quiz · dnnx lab</title>" in html and "<h1>A quiz</h1>" in html
    assert '<a href="quiz" class="current">' in html and '"static/lab.js"' in html


def test_the_learn_index_links_every_learn_page(client) -> None:
    html = client.get("/learn").text
    learn_pages = [p.route for p in PAGES if p.route.startswith("/learn/")]
    assert learn_pages and all(f'href="{route[1:]}"' in html for route in learn_pages)


def test_every_script_and_style_a_page_names_is_served_by_the_lab(client) -> None:
    """Offline: no page may load anything from another host. Behind a proxy: every address in
    a page is relative to its <base>, so none starts with "/"."""
    for route in (page.route for page in PAGES):
        html = client.get(route).text
        assert "http://" not in html and "https://" not in html
        assert '<base href="/">' in html
        addresses = re.findall(r'(?:src|href)="([^"]*)"', html)
        assert [a for a in addresses if a.startswith("/")] == ["/"], route  # the base only
        for asset in (a for a in addresses if a.startswith("static/")):
            assert client.get("/" + asset).status_code == 200, (route, asset)


def test_pages_under_a_proxy_prefix_address_the_lab_under_it(trained_runs) -> None:
    prefixed = TestClient(
        create_app(trained_runs), base_url="http://127.0.0.1", root_path="/rnode/n1/8000"
    )
    html = prefixed.get("/learn/inside").text
    assert '<base href="/rnode/n1/8000/">' in html and '<a href="learn" class="current">' in html
    for script in ("static/lab.js", "static/learn/inside.js"):
        assert f'"{script}"' in html
    scripts = (STATIC / "lab.js").read_text() + (STATIC / "learn" / "inside.js").read_text()
    assert '"/api' not in scripts and "`/api" not in scripts  # fetches are relative too
    assert (STATIC / "vendor" / "chart.js.LICENSE.md").read_text().startswith("The MIT License")


def test_unknown_routes_answer_json(client) -> None:
    answer = client.get("/api/nothing-here")
    assert answer.status_code == 404 and "error" in answer.json()


def test_choices_list_every_registered_model_and_dataset(client) -> None:
    choices = client.get("/api/choices").json()
    names = [m["name"] for m in choices["models"]]
    assert names[:3] == ["softmax", "mlp", "cnn"] and "lenet5" in names
    assert {d["name"] for d in choices["datasets"]} == {"mnist", "fashion-mnist"}
    mlp = choices["models"][1]
    assert mlp["options"]["hidden"] == [200, 100] and mlp["recipes"]["mnist"]["epochs"] >= 1
    assert "relu" in choices["activations"] and "adam" in choices["optimizers"]


# -- the runs folder -----------------------------------------------------------------------


def test_runs_lists_every_run_folder_including_nested_and_broken_ones(client) -> None:
    rows = {r["name"]: r for r in client.get("/api/runs").json()}
    assert set(rows) == {"softmax-a", "cnn-b", "ladder/mlp-mnist", "broken"}
    softmax = rows["softmax-a"]
    assert softmax["model"] == "softmax" and softmax["dataset"] == "mnist"
    assert softmax["epochs"] == 1 and softmax["complete"] and softmax["has_weights"]
    assert 0 <= softmax["test_accuracy"] <= 1 and softmax["date"][:2] == "20"
    assert "error" in rows["broken"]


def test_run_details_hold_config_summary_and_curves(client, trained_runs) -> None:
    details = client.get("/api/runs/ladder/mlp-mnist").json()
    assert details["config"]["model_options"] == {"hidden": [16]}
    assert details["metrics"] == RunFolder(trained_runs / "ladder/mlp-mnist").read_metrics()
    assert details["summary"]["complete"] is True


def test_analysis_gives_the_confusion_matrix_and_worst_errors(client, squares) -> None:
    analysis = client.get("/api/runs/softmax-a/analysis").json()
    confusion = torch.tensor(analysis["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == len(squares.test_labels)
    assert analysis["test_accuracy"] == pytest.approx(confusion.trace().item() / confusion.sum())
    for error in analysis["errors"]:
        assert error["true"] != error["predicted"] and error["image"].startswith("data:image/png")


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "%2E%2E",
        "softmax-a%2F..%2F..%2Fescape",
        "%2Fetc",
        "a%5Cb",
        ".hidden",
        "x" * 120,
    ],
)
def test_run_names_cannot_leave_the_runs_folder(client, name) -> None:
    for answer in (
        client.get(f"/api/runs/{name}"),
        client.post(f"/api/runs/{name}/predict", content=png_of_a_stroke()),
    ):
        assert answer.status_code == 400, answer.text
        assert "not a run name" in answer.json()["error"]


def test_a_link_pointing_outside_the_runs_folder_is_refused(tmp_path, trained_runs) -> None:
    outside = trained_runs / "softmax-a"
    runs = tmp_path / "runs"
    runs.mkdir()
    os.symlink(outside, runs / "sneaky")
    app = create_app(runs)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get("/api/runs").json() == []
        assert client.get("/api/runs/sneaky").status_code == 400


def test_a_missing_run_is_404(client) -> None:
    answer = client.get("/api/runs/no-such-run")
    assert answer.status_code == 404 and "no run named" in answer.json()["error"]
    assert client.get("/api/runs/not-a-run").status_code == 404


# -- predictions ---------------------------------------------------------------------------


def test_predict_uses_the_same_preprocessing_and_probabilities_as_dnnx_predict(
    client, trained_runs
) -> None:
    drawing = png_of_a_stroke()
    answer = client.post("/api/runs/softmax-a/predict", content=drawing)
    assert answer.status_code == 200, answer.text
    result = answer.json()

    model = Run.load(trained_runs / "softmax-a").model
    x = to_mnist(Image.open(io.BytesIO(drawing)))  # (28, 28): dnnx predict's path
    expected = predict_images(model, x.unsqueeze(0), 0.1307, 0.3081)[0]
    assert result["probabilities"] == pytest.approx(expected.tolist(), abs=1e-5)
    assert result["digit"] == int(expected.argmax()) and result["label"] == str(result["digit"])
    assert sum(result["probabilities"]) == pytest.approx(1, abs=1e-4)
    seen = Image.open(io.BytesIO(_png_bytes(result["input"])))
    assert seen.size == (28, 28)
    pixels = torch.from_numpy(np.asarray(seen, dtype=np.float32)) / 255  # (28, 28)
    assert torch.allclose(pixels, x, atol=1 / 255)
    assert result["feature_maps"] is None  # softmax regression has no convolution


def test_predict_on_a_cnn_also_returns_its_first_feature_maps(client) -> None:
    result = client.post("/api/runs/cnn-b/predict", content=png_of_a_stroke()).json()
    maps = result["feature_maps"]
    assert maps["kind"] == "feature maps" and maps["layer"] == "features.0"
    assert len(maps["images"]) == 4  # channels=[4]
    assert Image.open(io.BytesIO(_png_bytes(maps["images"][0]))).size == (28, 28)


def test_predict_accepts_a_transparent_canvas_export(client) -> None:
    answer = client.post("/api/runs/softmax-a/predict", content=png_of_a_stroke(mode="RGBA"))
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 422, "empty"),
        (
            b"this is not an image",
            415,
            "not an image of an accepted format (PNG, JPEG, WEBP, GIF, BMP or PPM)",
        ),
        (png_of_a_stroke()[:200], 422, "damaged or truncated"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, 422, "header is damaged"),
        (b"GIF89a" + b"\xff" * 40, 422, "header is damaged"),
    ],
)
def test_bad_uploads_get_a_4xx_json_error_never_a_500(client, body, status, message) -> None:
    answer = client.post("/api/runs/softmax-a/predict", content=body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]


def test_a_blank_drawing_is_no_digit(client) -> None:
    buffer = io.BytesIO()
    Image.new("L", (280, 280), "white").save(buffer, format="PNG")
    answer = client.post("/api/runs/softmax-a/predict", content=buffer.getvalue())
    assert answer.status_code == 422 and "no digit found" in answer.json()["error"]


def test_predict_with_a_run_that_has_no_weights_yet_is_a_conflict(client) -> None:
    answer = client.post("/api/runs/broken/predict", content=png_of_a_stroke())
    assert answer.status_code == 409 and "no trained weights" in answer.json()["error"]


# -- request limits and origin ---------------------------------------------------------------


def test_request_bodies_are_size_limited(trained_runs, store) -> None:
    app = create_app(trained_runs, datasets=store, max_body=10_000)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        big = b"x" * 10_001
        answer = client.post("/api/runs/softmax-a/predict", content=big)
        assert answer.status_code == 413 and "too large" in answer.json()["error"]

        def chunks():  # no Content-Length: the body is counted as it arrives
            for _ in range(20):
                yield b"x" * 1000

        answer = client.post("/api/runs/softmax-a/predict", content=chunks())
        assert answer.status_code == 413 and "too large" in answer.json()["error"]
        huge_form = client.post("/api/train", json={"name": "x" * 20_000})
        assert huge_form.status_code == 413 and "error" in huge_form.json()
        assert client.post("/api/runs/softmax-a/predict", content=png_of_a_stroke()).is_success


def test_posts_from_other_web_sites_and_foreign_host_names_are_refused(client) -> None:
    drawing = png_of_a_stroke()
    evil = client.post(
        "/api/runs/softmax-a/predict", content=drawing, headers={"Origin": "https://evil.test"}
    )
    assert evil.status_code == 403
    sandboxed = client.post("/api/train/stop", headers={"Origin": "null"})
    assert sandboxed.status_code == 403
    same = client.post(
        "/api/runs/softmax-a/predict", content=drawing, headers={"Origin": "http://127.0.0.1:8000"}
    )
    assert same.status_code == 200
    rebound = client.get("/api/runs", headers={"Host": "attacker.test"})
    assert rebound.status_code == 421


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1:8000", True),
        ("127.0.0.2", True),
        ("localhost:8000", True),
        ("LOCALHOST", True),
        ("[::1]:8000", True),
        ("attacker.test", False),
        ("127.0.0.1.attacker.test:8000", False),
        ("0.0.0.0:8000", False),
        ("192.168.1.20", False),
    ],
)
def test_the_guard_and_dnnx_serve_agree_on_what_is_local(client, host, local) -> None:
    """One check, `is_loopback`: the Host names the guard lets in are the addresses on which
    `dnnx serve` calls itself local (and asks for no --trusted-host)."""
    name = host.removesuffix(":8000")
    assert is_loopback(name) is local
    answer = client.get("/api/train", headers={"Host": host})
    assert (answer.status_code != 421) is local, answer.json()


def test_an_open_lab_answers_any_host_name(trained_runs) -> None:
    app = create_app(trained_runs, local_only=False)
    with TestClient(app, base_url="http://192.168.1.20:8000") as client:
        assert client.get("/api/runs").status_code == 200


def _png_bytes(data_uri: str) -> bytes:
    assert data_uri.startswith("data:image/png;base64,")
    return base64.b64decode(data_uri.split(",", 1)[1])


def test_static_files_are_inside_the_package() -> None:
    names = {p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file()}
    assert {"draw.html", "train.html", "runs.html", "lab.js", "lab.css"} <= names
    assert {"vendor/chart.umd.min.js", "vendor/chart.js.LICENSE.md"} <= names
    assert Path(STATIC, "vendor", "chart.umd.min.js").read_text()[:200].find("Chart.js v4") > 0
