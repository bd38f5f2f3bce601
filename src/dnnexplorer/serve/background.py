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

import uvicorn
from fastapi import FastAPI

from dnnexplorer.serve.app import close_streams


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
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
    `root_path`: the prefix of a proxy in front of it (the URL stays the direct one).
    """
    port = port or free_port(host)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        root_path=root_path,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the web lab did not start on {host}:{port}")
        time.sleep(0.05)
    token = getattr(app.state, "token", None)
    try:
        yield f"http://{host}:{port}" + (f"/?token={token}" if token else "")
    finally:
        close_streams(app)  # as Ctrl-C does: open event streams end first
        server.should_exit = True
        thread.join(30)
