"""The lab behind a reverse proxy, as a cluster publishes it: under a prefix, with its token.

Open OnDemand serves an app at https://ondemand.example.edu/rnode/NODE/PORT/ and forwards each
request to NODE:PORT with the prefix stripped. Here a small threaded proxy does the same on
127.0.0.1 under the name `ondemand.test` (conftest's Chromium resolves it there), forwarding to
the lab with the Host `node01.test`; the lab runs with `root_path` set to the prefix, the two
names trusted, and a token. A real Chromium then opens the printed address and uses the lab
through the proxy.
"""

from __future__ import annotations

import http.client
import http.server
import threading
from collections.abc import Iterator

import pytest

from dnnexplorer.serve import create_app
from dnnexplorer.serve.background import free_port, serve_in_background
from dnnexplorer.serve.catalog import DatasetStore

from .conftest import DRAW_MODEL

TOKEN = "proxy-test-token-0123456789abcdef"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


def stripping_proxy(prefix: str, lab_port: int, lab_host: str) -> http.server.HTTPServer:
    """A reverse proxy: PREFIX/path -> 127.0.0.1:lab_port/path, streaming the answers back."""

    class Forward(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self) -> None:
            if not self.path.startswith(prefix + "/"):
                self.send_error(404, "not under the proxy's prefix")
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Host"] = f"{lab_host}:{lab_port}"  # as a proxy that does not keep the Host
            upstream = http.client.HTTPConnection("127.0.0.1", lab_port, timeout=60)
            upstream.request(self.command, self.path[len(prefix) :], body, headers)
            answer = upstream.getresponse()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while chunk := answer.read1(65536):  # event streams arrive piece by piece
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            upstream.close()

        do_GET = do_POST = do_PUT = do_DELETE = forward

        def log_message(self, *args: object) -> None:  # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    return server


@pytest.fixture(scope="module")
def proxied_lab(lab_runs, mnist) -> Iterator[str]:
    """The address a learner is given: http://ondemand.test:PORT/rnode/node01/LAB/?token=..."""
    lab_port = free_port()
    prefix = f"/rnode/node01/{lab_port}"
    store = DatasetStore()
    store.put(mnist)
    app = create_app(
        lab_runs, datasets=store, token=TOKEN, trusted_hosts=("ondemand.test", "node01.test")
    )
    proxy = stripping_proxy(prefix, lab_port, "node01.test")
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    with serve_in_background(app, port=lab_port, root_path=prefix):
        yield f"http://ondemand.test:{proxy.server_address[1]}{prefix}/?token={TOKEN}"
    proxy.shutdown()


def test_the_whole_lab_works_under_a_prefix_through_a_proxy(browser, proxied_lab) -> None:
    context = browser.new_context()
    context.set_default_timeout(30_000)
    errors: list[str] = []
    failed: list[str] = []
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    context.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    page = context.new_page()
    page.goto(proxied_lab)
    root = proxied_lab.split("?")[0]
    assert page.url == root  # the token left the address bar: it lives in a cookie now
    page.wait_for_selector(f"#run option[value='{DRAW_MODEL}']", state="attached")
    page.click("nav a:has-text('Runs')")
    page.wait_for_url(root + "runs")
    page.wait_for_selector(f"text={DRAW_MODEL}")
    page.click("nav a:has-text('Learn')")
    page.wait_for_url(root + "learn")
    page.click("a[href='learn/filters']")
    page.wait_for_url(root + "learn/filters")
    # A POST from the page through the proxy: its Origin is the proxy's, which the lab trusts.
    status = page.evaluate("() => fetch('api/train/stop', {method: 'POST'}).then(r => r.status)")
    assert status not in (401, 403, 421), status
    stream = page.evaluate(
        "() => new Promise(ok => { const s = new EventSource('api/train/events');"
        " s.addEventListener('idle', () => { s.close(); ok('idle'); });"
        " setTimeout(() => { s.close(); ok('no idle event in 20 s'); }, 20000); })"
    )
    assert stream == "idle", failed  # server-sent events stream through the proxy
    assert failed == [] and errors == [], (failed, errors)
    context.close()


def test_the_proxy_address_without_the_token_is_refused(browser, proxied_lab) -> None:
    context = browser.new_context()
    answer = context.new_page().goto(proxied_lab.split("?")[0] + "api/runs")
    assert answer.status == 401 and "needs its token" in answer.text()
    context.close()
