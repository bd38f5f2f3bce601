"""Serve the web lab on a background thread: from a notebook, a script or a test.

`dnnx serve` blocks its terminal; in Jupyter you may rather keep working while the lab runs:

    with serve_in_background(create_app("runs", token=new_token())) as url:
        print(url)  # open it in a browser (it carries the token); the lab stops with the block
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

from fastapi import FastAPI

from dnnexplorer.serve.server import LabServer, bind_port


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (for a test that must know it beforehand)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_in_background(
    app: FastAPI,
    host: str = "127.0.0.1",
    port: int | None = None,
    start_timeout: float = 30,
    root_path: str = "",
) -> Iterator[str]:
    """Run `app` with uvicorn on a daemon thread; yield its URL; stop it on exit.

    For an app with a token the URL is the first visit's, `http://HOST:PORT/?token=...`.
    `port`: None for any free one; `root_path`: the prefix of a proxy in front of it (the URL
    stays the direct one).
    """
    listening = bind_port(host, port or 0)
    port = listening.getsockname()[1]
    server = LabServer(app, listening, root_path, grace_s=1)
    thread = threading.Thread(target=server.serve_until_stopped, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.stop()
            raise RuntimeError(f"the web lab did not start on {host}:{port}")
        time.sleep(0.05)
    token = getattr(app.state, "token", None)
    try:
        yield f"http://{host}:{port}" + (f"/?token={token}" if token else "")
    finally:
        server.stop()  # as Ctrl-C does: open event streams end first
        thread.join(30)
