"""`dnnx lesson list`, `dnnx lesson run NAME`, and the shortcut `dnnx lesson NAME`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dnnexplorer.cli import main
from dnnexplorer.lessons import lesson_names


def run_cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def test_list_shows_every_lesson_with_a_description(capsys):
    assert run_cli(["lesson", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == lesson_names()
    assert all(len(line.split()) > 3 for line in lines)


def test_run_tells_the_story_and_writes_files(tmp_path, capsys):
    out = tmp_path / "slash"
    assert run_cli(["lesson", "run", "slash-world", "--out", str(out), "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    data = json.loads((out / "result.json").read_text())
    assert "Lesson slash-world" in printed and str(out / "result.json") in printed
    assert data["seed"] == 3 and all((out / name).is_file() for name in data["figures"])
    words = printed.split()
    for paragraph in data["story"]:  # every paragraph is printed, re-wrapped to the screen
        assert " ".join(paragraph.split()) in " ".join(words)
    assert max(len(line) for line in printed.splitlines()) <= 100


def test_quiet_prints_only_the_short_summary(tmp_path, capsys):
    out = tmp_path / "slash"
    assert run_cli(["lesson", "slash-world", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    data = json.loads((out / "result.json").read_text())
    assert all(line in printed for line in data["summary"])
    assert data["story"][0] not in printed and len(printed) < len("\n".join(data["story"]))


def test_shortcut_runs_the_lesson(tmp_path, capsys):
    assert run_cli(["lesson", "xo-world", "--out", str(tmp_path)]) == 0
    assert "Lesson xo-world" in capsys.readouterr().out
    assert (tmp_path / "result.json").is_file()


def test_default_out_is_lessons_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli(["lesson", "activations"]) == 0
    assert (tmp_path / "lessons" / "activations" / "result.json").is_file()


def test_offline_lesson_needs_no_data(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DNNX_DATA", raising=False)
    args = ["lesson", "softmax-weights", "--offline", "--out", str(tmp_path)]
    assert run_cli(args) == 0
    assert "seven-segment" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lesson", "nope"], "'nope' is not one of"),
        (["lesson", "run", "nope"], "'nope' is not one of"),
        (["lesson", "run", "triangle", "--seed", "-1"], "--seed"),
    ],
)
def test_bad_input_is_one_line_and_status_2(args, message, capsys):
    assert run_cli(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("dnnx: error:") and message in err
    assert len(err.strip().splitlines()) == 1


def test_real_subprocess(tmp_path):
    """`python -m dnnexplorer lesson list` in a fresh process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "dnnexplorer", "lesson", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0
    assert "regression" in done.stdout and "xo-world" in done.stdout
