"""GET /api/learn/regression, the data of the page /learn/descent: chapter 3's houses and the
facts of their loss surface, exactly the lessons' numbers; a bad seed is a 4xx JSON error."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from dnnexplorer.lessons import gradient_descent as gd
from dnnexplorer.lessons import regression
from dnnexplorer.serve import create_app
from dnnexplorer.serve.pages import STATIC


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(tmp_path_factory.mktemp("runs"))
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.mark.parametrize("seed", [0, 7])
def test_the_houses_and_the_surface_are_the_lessons_to_the_last_bit(client, seed):
    answer = client.get(f"/api/learn/regression?seed={seed}")
    assert answer.status_code == 200
    surface = answer.json()
    x, y = regression.straight_line_set(seed)
    # JSON carries each float64 as its shortest round-trip decimal: the very same numbers.
    assert surface["houses"] == {"x": x.tolist(), "y": y.tolist()}
    w, b = regression.closed_form(x, y)
    loss = regression.mean_squared_error(x, y, w, b)
    assert surface["least_squares"] == {"w": w, "b": b, "loss": loss}
    assert surface["hessian"] == gd.hessian(x).tolist()
    assert surface["eigenvalues"] == list(gd.eigenvalues(gd.hessian(x)))
    assert surface["critical_learning_rate"] == gd.critical_learning_rate(x)
    assert surface["start"] == list(gd.START)
    assert surface["tolerance"] == gd.TOLERANCE and surface["diverged"] == gd.DIVERGED
    assert surface["rates"] == gd.RATES
    assert surface["seed"] == seed


def test_the_eigenvectors_are_the_hessians_and_the_window_holds_the_start(client):
    surface = client.get("/api/learn/regression").json()  # seed 0 by default
    h = np.array(surface["hessian"])
    for lam, v in zip(surface["eigenvalues"], surface["eigenvectors"], strict=True):
        np.testing.assert_allclose(h @ v, lam * np.array(v), atol=1e-12)  # H·v = λ·v
        assert np.linalg.norm(v) == pytest.approx(1.0)
    best, window = surface["least_squares"], surface["window"]
    assert np.mean(window["w"]) == pytest.approx(best["w"])
    assert np.mean(window["b"]) == pytest.approx(best["b"])
    (w0, w1), (b0, b1) = window["w"], window["b"]
    assert w0 < gd.START[0] < w1 and b0 < gd.START[1] < b1


def test_other_seeds_give_other_houses(client):
    zero, one = (client.get(f"/api/learn/regression?seed={s}").json() for s in (0, 1))
    assert zero["houses"]["x"] != one["houses"]["x"]
    assert zero["critical_learning_rate"] != one["critical_learning_rate"]


@pytest.mark.parametrize(
    "query, says",
    [
        ("seed=1.5", "valid integer"),
        ("seed=abc", "valid integer"),
        ("seed=", "valid integer"),
        ("seed=1e3", "valid integer"),
        ("seed=-1", "greater than or equal to 0"),
        ("seed=4294967296", "less than or equal to 4294967295"),
        ("seed=" + "9" * 400, "less than or equal to 4294967295"),
    ],
)
def test_a_bad_seed_is_a_clear_json_error(client, query, says):
    answer = client.get(f"/api/learn/regression?{query}")
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/json")
    assert "seed" in answer.json()["error"] and says in answer.json()["error"]


def test_the_page_and_its_scripts_are_served(client):
    page = client.get("/learn/descent")
    assert page.status_code == 200
    assert '<a href="learn" class="current">Learn</a>' in page.text
    for name in ("descent-walk.js", "descent-draw.js", "descent.js", "descent.css"):
        assert f'"static/learn/{name}"' in page.text
        assert client.get(f"/static/learn/{name}").status_code == 200
    html = (STATIC / "learn" / "descent.html").read_text()  # the lab's rules: no inline code
    assert "style=" not in html and "<script>" not in html and "onclick" not in html
