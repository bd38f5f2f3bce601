"""Fixtures for the lesson tests: each lesson runs once per session, offline, into a temp folder.

Lessons compute on tiny tensors, where a second CPU thread only adds waiting: on a busy
two-core machine, torch's default of one thread per core made some lessons 20x slower. The
tests therefore run torch single-threaded, restoring the setting after each module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from dnnexplorer.lessons import LessonConfig, LessonResult, run_lesson


@pytest.fixture(autouse=True, scope="module")
def _single_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def lesson_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], tuple[LessonResult, Path]]:
    """`lesson_run(name)` -> (result, out_dir): the lesson run once, offline, seed 0."""
    done: dict[str, tuple[LessonResult, Path]] = {}

    def get(name: str) -> tuple[LessonResult, Path]:
        if name not in done:
            out = tmp_path_factory.mktemp(name)
            done[name] = (run_lesson(name, LessonConfig(out_dir=out, seed=0, offline=True)), out)
        return done[name]

    return get
