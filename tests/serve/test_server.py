"""The one uvicorn runner (server.py), as `serve_in_background` uses it; `dnnx serve` uses it too
(test_serve_cli.py runs that as a real process)."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

import pytest

from dnnexplorer.errors import ConfigError
from dnnexplorer.serve import create_app, serve_in_background


def test_a_taken_port_is_one_line_before_anything_starts(trained_runs) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        lab = serve_in_background(create_app(trained_runs), port=port)
        with pytest.raises(ConfigError, match=f"^port {port} is in use"), lab:
            pass


def test_the_lab_on_a_thread_serves_its_prefix_and_stops_with_a_stream_open(trained_runs) -> None:
    """port None: the system chooses one; `root_path`: every page addresses the lab under it;
    leaving the block ends the open event stream, as Ctrl-C does for `dnnx serve`."""
    app = create_app(trained_runs)
    with serve_in_background(app, root_path="/rnode/n1/8000") as url:
        address = urlsplit(url)
        assert address.port and url == f"http://127.0.0.1:{address.port}"
        page = http.client.HTTPConnection("127.0.0.1", address.port, timeout=30)
        page.request("GET", "/learn")
        assert '<base href="/rnode/n1/8000/">' in page.getresponse().read().decode()
        page.request("GET", "/api/train/events")
        stream, received = page.getresponse(), b""
        while b"event: idle" not in received:  # the stream is open
            received += stream.read1(1000)
    assert app.state.closing.is_set()  # the server told the stream to end before stopping
    stream.read()  # and it has: the connection is closed, nothing waits
    page.close()
