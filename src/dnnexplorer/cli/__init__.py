"""The `dnnx` command: parses flags, calls the library, prints results.

Each sub-command group lives in its own module (data.py, train.py, ...) and holds no logic of
its own. `main()` is the one place where errors become messages: a `DnnxError` or a bad flag
prints one line and exits with status 2; `--debug` anywhere on the line shows the traceback.
"""

from __future__ import annotations

import sys

import click

from dnnexplorer import __version__
from dnnexplorer.cli import bench, course, data, evaluate, lesson, serve, slurm, train
from dnnexplorer.errors import DnnxError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="dnnx")
def dnnx() -> None:
    """dnnx: a hands-on deep-learning lab, from least squares to LeNet-5.

    Add --debug anywhere on the command line to see full tracebacks.
    """


dnnx.add_command(data.data)
dnnx.add_command(train.train)
dnnx.add_command(train.ladder)
dnnx.add_command(evaluate.eval_command)
dnnx.add_command(evaluate.predict)
dnnx.add_command(slurm.slurm)
dnnx.add_command(lesson.lesson)
dnnx.add_command(course.course)
dnnx.add_command(serve.serve)
dnnx.add_command(bench.bench)


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
        _fail(f"{e.strerror or e}{where}", 1)
    sys.exit(status if isinstance(status, int) else 0)
