"""Run the web lab with uvicorn: the one place its server is built.

`dnnx serve` runs it in the foreground until Ctrl-C (cli/serve.py); `serve_in_background` runs
it on a thread, for a notebook or a test (background.py). Both take the port first
(`bind_port`), so a port in use is one line before any address is shown, and port 0 lets the
system choose a free one. The server then answers on that socket.
"""

from __future__ import annotations

import errno
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

from dnnexplorer.errors import ConfigError
from dnnexplorer.serve.app import close_streams

GRACE_S = 3  # when stopping, requests still running after this long are cancelled


def bind_port(host: str, port: int) -> socket.socket:
    """A socket bound to host:port for the lab; ConfigError in one line if it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a port left in TIME_WAIT by a lab just stopped can be used again at once.
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host.strip("[]"), port))
    except OSError as e:
        listening.close()
        if e.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} is in use; choose another with --port") from None
        raise ConfigError(f"cannot listen on {host} port {port} ({e.strerror or e})") from None
    return listening


class LabServer(uvicorn.Server):
    """uvicorn's server for one lab, answering on a socket `bind_port` took.

    Stopping it (Ctrl-C, or `stop()` from another thread) first ends the lab's open event
    streams: a Train page left open would otherwise hold the shutdown up.
    """

    def __init__(
        self,
        app: FastAPI,
        listening: socket.socket,
        root_path: str = "",
        grace_s: int = GRACE_S,
    ) -> None:
        host, port = listening.getsockname()[:2]
        config = uvicorn.Config(
            app,
            host=host,  # only for uvicorn's messages: the socket is bound already
            port=port,
            root_path=root_path,  # a proxy's prefix: see app.create_app
            log_level="warning",
            timeout_graceful_shutdown=grace_s,
        )
        super().__init__(config)
        self.lab, self.listening = app, listening

    def serve_until_stopped(self) -> None:
        """Answer requests until stopped, then close the socket (the lab's job has stopped)."""
        with self.listening:
            self.run(sockets=[self.listening])

    def stop(self) -> None:
        """Ask the server to stop, from another thread, as Ctrl-C does."""
        close_streams(self.lab)
        self.should_exit = True

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Ctrl-C (uvicorn listens for it when it runs on the main thread)
        close_streams(self.lab)
        super().handle_exit(sig, frame)
