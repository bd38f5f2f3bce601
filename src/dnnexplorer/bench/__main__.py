"""`python -m dnnexplorer.bench [OPTIONS]`: the same command as `dnnx bench`."""

from __future__ import annotations

import sys

import click

from dnnexplorer.cli.bench import bench
from dnnexplorer.errors import DnnxError

EXIT_USER_ERROR = 2


def main(argv: list[str] | None = None) -> None:
    """Run the bench command; a DnnxError becomes one line and exit status 2, as under `dnnx`."""
    try:
        bench.main(args=argv, prog_name="python -m dnnexplorer.bench", standalone_mode=True)
    except DnnxError as e:
        click.echo(f"dnnx bench: error: {e}", err=True)
        sys.exit(EXIT_USER_ERROR)


if __name__ == "__main__":
    main()
