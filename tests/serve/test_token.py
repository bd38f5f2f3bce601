"""The lab's token: without it every page and API call is refused, with it all works."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from dnnexplorer.serve import create_app, new_token
from dnnexplorer.serve import guard as guard_module
from dnnexplorer.serve.guard import cookie_name

TOKEN = "lab-token-for-the-tests-0123456789"
LOCAL = "http://127.0.0.1"  # the lab answers on localhost only


@pytest.fixture(scope="module")
def app(trained_runs):
    return create_app(trained_runs, token=TOKEN)


def every_route(app) -> list[tuple[str, str]]:
    """(method, path) of every route of the lab, path parameters filled with a real run."""
    found = []
    for route in app.routes:
        if isinstance(route, Mount):  # the static files
            found.append(("GET", route.path + "/lab.js"))
        elif isinstance(route, Route):
            path = re.sub(r"\{[^}]+\}", "softmax-a", route.path)
            found += [(method, path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return found


def test_every_route_refuses_a_request_without_the_right_token(app) -> None:
    routes = every_route(app)
    assert ("GET", "/") in routes and ("POST", "/api/train") in routes and len(routes) > 15
    client = TestClient(app, base_url=LOCAL)
    wrong = TOKEN[:-1] + "X"
    attempts = (
        {},
        {"headers": {"Authorization": f"token {wrong}"}},
        {"headers": {"Authorization": "token "}},
        {"headers": {"Cookie": f"{cookie_name(TOKEN)}={wrong}"}},
        {"headers": {"Cookie": f"{cookie_name(wrong)}={TOKEN}"}},  # another lab's cookie name
        {"params": {"token": wrong}},
    )
    for method, path in routes:
        for attempt in attempts:
            answer = client.request(method, path, follow_redirects=False, **attempt)
            assert answer.status_code == 401, (method, path, attempt)
            assert "needs its token" in answer.json()["error"]


def test_the_right_token_lets_every_route_in(app) -> None:
    client = TestClient(app, base_url=LOCAL, headers={"Authorization": f"Bearer {TOKEN}"})
    for method, path in every_route(app):
        if method == "GET" and not path.endswith("/events"):  # a stream would never end
            assert client.get(path).status_code != 401, path


def test_the_first_visit_sets_a_cookie_and_hides_the_token(app) -> None:
    client = TestClient(app, base_url=LOCAL)
    first = client.get(f"/learn/inside?run=softmax-a&token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/learn/inside?run=softmax-a"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(TOKEN)}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert first.headers["cache-control"] == "no-store"
    page = client.get("/learn/inside?run=softmax-a")  # the cookie now rides along
    assert page.status_code == 200 and "<html" in page.text
    assert client.get("/api/runs").status_code == 200
    assert (
        TestClient(app, base_url=LOCAL).get("/api/runs").status_code == 401
    )  # a fresh browser has none


def test_the_comparison_takes_constant_time(app, monkeypatch) -> None:
    compared = []

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return a == b

    monkeypatch.setattr(guard_module.hmac, "compare_digest", spy)
    TestClient(app, base_url=LOCAL).get("/api/runs", headers={"Authorization": "token guess"})
    assert compared == [(b"guess", TOKEN.encode())]


def test_new_tokens_are_long_random_and_url_safe() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(t) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in tokens)


def test_an_app_without_a_token_asks_for_none(trained_runs) -> None:
    assert TestClient(create_app(trained_runs), base_url=LOCAL).get("/api/runs").status_code == 200


def test_a_lab_beside_a_notebook_gives_the_address_with_its_token(trained_runs) -> None:
    """serve_in_background (the notebook's way) yields the first visit's address, token and all."""
    import contextlib
    import http.client
    from urllib.parse import urlsplit

    from dnnexplorer.serve import serve_in_background

    token = new_token()
    with contextlib.ExitStack() as lab:
        url = lab.enter_context(serve_in_background(create_app(trained_runs, token=token)))
        assert url.endswith(f"/?token={token}")
        parts = urlsplit(url)
        visit = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        visit.request("GET", f"/?{parts.query}")
        first = visit.getresponse()
        first.read()
        assert first.status == 303 and first.getheader("Location") == "/"
        visit.request("GET", "/api/runs", headers={"Cookie": first.getheader("Set-Cookie")})
        assert visit.getresponse().status == 200
        visit.close()
