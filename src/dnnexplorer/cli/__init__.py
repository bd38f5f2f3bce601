"""The `dnnx` command: parses flags, calls the library, prints results.

Each sub-command group lives in its own module (data.py, train.py, ...) and holds no logic of
its own. The modules are imported only when their command runs: PyTorch takes seconds to
import, and `dnnx --help` should not wait for it. `main()` is the one place where errors become
messages: a `DnnxError` or a bad flag prints one line and exits with status 2; `--debug`
anywhere on the line shows the traceback.
"""

from __future__ import annotations

import errno
import importlib
import sys

import click

from dnnexplorer import __version__
from dnnexplorer.errors import DnnxError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
# A full disk, a full quota, a file size limit (`ulimit -f`): what was written before is intact.
DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}

# Every command, in the order a learner meets them: name -> (module, attribute, one-line help).
# The help is the command's own first docstring line (a test keeps the two equal).
COMMANDS = {
    "course": (
        "course",
        "course",
        "The course: each chapter with its notebook and command, in the slides' order.",
    ),
    "lesson": ("lesson", "lesson", "The workshop's fundamentals as small, runnable lessons."),
    "data": ("data", "data", "Fetch, inspect and show the datasets (MNIST, Fashion-MNIST)."),
    "train": (
        "train",
        "train",
        "Train a model and write a run folder (config, metrics, weights, summary).",
    ),
    "eval": (
        "evaluate",
        "eval_command",
        "Test accuracy, per-class accuracy, confusion matrix and worst errors of a run.",
    ),
    "predict": (
        "evaluate",
        "predict",
        "Predict the digit (or class) in each IMAGE: photos, scans, canvas exports.",
    ),
    "export": (
        "export",
        "export",
        "Export a trained run as ONNX or TorchScript, normalization and softmax built in.",
    ),
    "ladder": (
        "ladder",
        "ladder",
        "Train softmax -> mlp -> cnn -> lenet5 (1998 and modern) -> best; compare them in a table.",
    ),
    "serve": (
        "serve",
        "serve",
        "Start the web lab: Draw, Train (live curves), Runs, and Learn (the course's pages).",
    ),
    "bench": (
        "bench",
        "bench",
        "Measure time to target test accuracy: softmax 92%, mlp 98%, cnn 99%, best 99.5%.",
    ),
    "slurm": (
        "slurm",
        "slurm",
        "Print an sbatch script that runs `dnnx train TRAIN_ARGS` with torchrun on every node.",
    ),
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands or name not in COMMANDS:
            return self.commands.get(name)
        module, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"dnnexplorer.cli.{module}"), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """`dnnx --help` lists the commands from the table, without importing any of them."""
        rows = [(name, help) for name, (_, _, help) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", "-V", prog_name="dnnx")
def dnnx() -> None:
    """dnnx: a hands-on deep-learning lab, from least squares to LeNet-5.

    New here? `dnnx course` lists the chapters of the course, in order.

    Add --debug anywhere on the command line to see full tracebacks.
    """


def _fail(message: str, code: int) -> None:
    click.echo(f"dnnx: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Run `dnnx` with `argv` (default: sys.argv[1:]) and exit with its status."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        status = dnnx.main(args=args, prog_name="dnnx", standalone_mode=False)
    except click.UsageError as e:
        where = e.ctx.command_path if e.ctx else "dnnx"
        _fail(f"{e.format_message()} (see '{where} --help')", EXIT_USER_ERROR)
    except click.ClickException as e:
        _fail(e.format_message(), e.exit_code)
    except click.Abort:
        _fail("interrupted", EXIT_INTERRUPTED)
    except DnnxError as e:
        if debug:
            raise
        _fail(str(e), EXIT_USER_ERROR)
    except OSError as e:
        # A full disk, a permission problem, a vanished file: say which file, not a traceback.
        if debug:
            raise
        where = f" ({e.filename})" if e.filename else ""
        hint = "; make room, then run it again (a training run continues with --resume)"
        _fail(f"{e.strerror or e}{where}{hint if e.errno in DISK_FULL else ''}", 1)
    sys.exit(status if isinstance(status, int) else 0)
