"""Run `dnnx` as a user does: a real subprocess, real files."""

from __future__ import annotations

import subprocess
import sys

import pytest


def dnnx(*args: str, cwd=None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`dnnx ARGS...` in a fresh Python process; returns its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "dnnexplorer", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def run_dnnx():
    return dnnx
