"""The root `dnnx` command: every command listed, and `dnnx --help` fast (no PyTorch import)."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from dnnexplorer.cli import COMMANDS, dnnx

NO_TORCH = """
import runpy, sys
sys.argv = ["dnnx", "--help"]
try:
    runpy.run_module("dnnexplorer", run_name="__main__")
except SystemExit:
    pass
print("torch imported:", "torch" in sys.modules)
"""


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_listed_command_loads_and_its_help_is_its_own_first_line(name):
    command = dnnx.get_command(click.Context(dnnx), name)
    assert isinstance(command, click.Command) and command.name == name
    assert (command.help or "").strip().splitlines()[0] == COMMANDS[name][2]


def test_help_lists_every_command_without_importing_torch():
    done = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in COMMANDS:
        assert f"\n  {name} " in done.stdout
    assert done.stdout.strip().endswith("torch imported: False")


def test_an_unknown_command_is_a_one_line_error():
    done = subprocess.run(
        [sys.executable, "-m", "dnnexplorer", "trian"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.startswith("dnnx: error: No such command 'trian'")
