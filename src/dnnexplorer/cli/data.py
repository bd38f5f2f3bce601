"""`dnnx data ...`: fetch, inspect and show the datasets."""

from __future__ import annotations

import click


@click.group()
def data() -> None:
    """Fetch, inspect and show the datasets (MNIST, Fashion-MNIST)."""
