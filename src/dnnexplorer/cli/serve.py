"""`dnnx serve`: the web lab in your browser: draw digits, train live, compare runs, learn."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from dnnexplorer.errors import ConfigError

# The fields of serve/limits.py's Limits, with their defaults (a test keeps the two equal; that
# module is not imported here: importing the lab takes seconds, and --help should not wait).
LIMITS_HELP = (
    "epochs (50), hidden_size (4096: units of one hidden layer), hidden_layers (10), "
    "parameters (20000000: of the model, in all), image_pixels (16000000: of an upload)"
)


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
@click.option(
    "--token",
    envvar="DNNX_TOKEN",
    help="The token every page and request must carry [default: a new random one each start; "
    "env DNNX_TOKEN]. At least 16 letters, digits or - _ . ~",
)
@click.option(
    "--root-path",
    default="",
    metavar="PREFIX",
    help="Behind a reverse proxy that serves the lab at PREFIX (e.g. Open OnDemand's "
    "/rnode/HOST/PORT) and strips it: every page then addresses the lab under PREFIX.",
)
@click.option(
    "--trusted-host",
    "trusted_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name the lab may be addressed as besides localhost: the proxy's (repeatable).",
)
@click.option(
    "--no-token",
    is_flag=True,
    help="Ask for no token: anyone who can reach the port uses the lab. Never on a shared machine.",
)
@click.option(
    "--limit",
    "limit_settings",
    multiple=True,
    metavar="NAME=NUMBER",
    help="Change a limit on what one request to the lab may ask (repeatable). NAME (default): "
    + LIMITS_HELP,
)
def serve(
    host: str,
    port: int,
    runs_dir: Path,
    data_dir: Path | None,
    token: str | None,
    root_path: str,
    trusted_hosts: tuple[str, ...],
    no_token: bool,
    limit_settings: tuple[str, ...],
) -> None:
    """Start the web lab: Draw, Train (live curves), Runs, and Learn (the course's pages).

    Every page works offline: its scripts, styles and charts are served by dnnx itself.
    As Jupyter does, the lab asks for a token, new at each start: open the address it prints
    (it ends with ?token=...); your browser then keeps it in a cookie.
    Stop with Ctrl-C; a training job in progress stops after its current mini-batch and its
    run folder can be continued with `dnnx train --resume`. A request may not ask for more than
    the lab's limits (epochs, model size, image size); --limit changes them.
    """
    try:
        from dnnexplorer.serve import create_app
    except ImportError as e:
        raise ConfigError(
            f"the web lab needs FastAPI and uvicorn ({e.name} is missing): "
            'pip install "dnnexplorer[web]"'
        ) from None
    from dnnexplorer.serve.guard import check_token, is_loopback, new_token
    from dnnexplorer.serve.limits import Limits
    from dnnexplorer.serve.server import LabServer, bind_port

    limits = Limits.parse(limit_settings)
    if no_token and token:
        raise ConfigError("--no-token and --token (or DNNX_TOKEN) contradict each other")
    token = None if no_token else check_token(token) if token else new_token()
    local = is_loopback(host)
    if no_token:
        where = "this machine" if local else "this machine or your network"
        click.secho(
            f"WARNING: --no-token: anyone who can reach port {port} on {where} (on a shared "
            "machine: every other user) can use this lab: read your runs, upload files, "
            "train on your CPU. Use it only on a computer that is yours alone.",
            fg="red",
            bold=True,
            err=True,
        )
    elif not local:
        click.secho(
            f"warning: the lab listens on {host}: anyone who can reach port {port} can knock; "
            "only the token lets them in, and it travels unencrypted (http).",
            fg="yellow",
            err=True,
        )
    root_path = check_root_path(root_path)
    listening = bind_port(host, port)  # before the address is printed: it must be true
    port = listening.getsockname()[1]  # --port 0: the one the system chose
    runs_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(
        runs_dir,
        data_dir,
        local_only=local,
        token=token,
        trusted_hosts=trusted_hosts,
        limits=limits,
    )
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown  # IPv6
    query = f"?token={token}" if token else ""
    if root_path:
        click.echo(
            f"dnnx lab behind your proxy at {root_path}/{query}  (listening on "
            f"{shown}:{port}; runs in {runs_dir}; Ctrl-C to stop)"
        )
    else:
        address = f"http://{shown}:{port}/{query}"
        click.echo(f"dnnx lab on {address}  (runs in {runs_dir}; Ctrl-C to stop)")
    # uvicorn passes Ctrl-C on once it has shut down (the lab's shutdown stops the job).
    with contextlib.suppress(KeyboardInterrupt):
        LabServer(app, listening, root_path).serve_until_stopped()
    job = app.state.job.info()
    if job["status"] == "stopped":
        click.echo(
            f"training stopped; continue it with: dnnx train --resume {runs_dir / job['run']}"
        )
    click.echo("lab stopped")


def check_root_path(root_path: str) -> str:
    """A proxy prefix as uvicorn wants it: "/a/b" (leading slash, no trailing one), or ""."""
    root_path = root_path.strip().rstrip("/")
    if root_path and (not root_path.startswith("/") or any(c in root_path for c in "?#\"' <>")):
        raise ConfigError(f"--root-path must be a path like /rnode/node01/8000; got {root_path!r}")
    return root_path
