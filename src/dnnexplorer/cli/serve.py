"""`dnnx serve`: the web lab in your browser: draw digits, train live, compare runs, learn."""

from __future__ import annotations

import contextlib
import ipaddress
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from dnnexplorer.errors import ConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI  # the web extras are imported only when the lab starts

GRACE_S = 3  # on Ctrl-C, requests still running after this long are cancelled


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach: 127.0.0.1, ::1, localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 opens the lab (which has no login) to your network.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--runs",
    "runs_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("runs"),
    show_default=True,
    help="Folder of run folders: listed on the Runs page; the Train page trains into it.",
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Folder holding the dataset files."
)
def serve(host: str, port: int, runs_dir: Path, data_dir: Path | None) -> None:
    """Start the web lab: Draw, Train (live curves), Runs, and Learn (the course's pages).

    Every page works offline: its scripts, styles and charts are served by dnnx itself.
    Stop with Ctrl-C; a training job in progress stops after its current mini-batch and its
    run folder can be continued with `dnnx train --resume`.
    """
    try:
        from dnnexplorer.serve import create_app
    except ImportError as e:
        raise ConfigError(
            f"the web lab needs FastAPI and uvicorn ({e.name} is missing): "
            'pip install "dnnexplorer[web]"'
        ) from None
    local = is_loopback(host)
    if not local:
        click.secho(
            f"warning: the lab has no login: anyone who can reach this machine on port {port} "
            "can train models, read your runs and use the server's CPU.",
            fg="yellow",
            err=True,
        )
    runs_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(runs_dir, data_dir, local_only=local)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"dnnx lab on http://{shown}:{port}/  (runs in {runs_dir}; Ctrl-C to stop)")
    serve_until_ctrl_c(app, host, port)
    job = app.state.job.info()
    if job["status"] == "stopped":
        click.echo(
            f"training stopped; continue it with: dnnx train --resume {runs_dir / job['run']}"
        )
    click.echo("lab stopped")


def serve_until_ctrl_c(app: FastAPI, host: str, port: int) -> None:
    """Run the lab with uvicorn until Ctrl-C; by the time it returns, the job has stopped."""
    import uvicorn

    from dnnexplorer.serve.app import close_streams

    class LabServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            close_streams(app)  # open pages' event streams end, so shutdown does not wait
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=GRACE_S
    )
    # uvicorn passes Ctrl-C on once it has shut down (the lab's shutdown stops the job).
    with contextlib.suppress(KeyboardInterrupt):
        LabServer(config).run()
