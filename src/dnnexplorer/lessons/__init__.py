"""The workshop's fundamentals as runnable lessons, registered by name.

Each lesson module holds one idea of the workshop and a `run(config) -> LessonResult` that
computes it for real, saves PNG figures and returns the numbers it found. `run_lesson` runs one
by name and writes `result.json` next to the figures; the CLI (`dnnx lesson NAME`) and the
notebooks in `notebooks/` both go through it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from dnnexplorer.errors import ConfigError
from dnnexplorer.lessons import (
    activations,
    backpropagation,
    convolution,
    gradient_descent,
    perceptron,
    plain_pytorch,
    regression,
    slash_world,
    softmax_by_hand,
    softmax_weights,
    triangle,
    vanishing_gradients,
    why_deep,
    xo_world,
)
from dnnexplorer.lessons.base import (
    RESULT_FILE,
    LessonConfig,
    LessonResult,
    story_text,
    write_result,
)


class Lesson(NamedTuple):
    """A registry entry: a one-line description and the function that runs the lesson.

    `uses_mnist`: the lesson loads MNIST unless run offline (the CLI fetches it first, with a
    progress bar, and the notebook test gives it the real data).
    """

    description: str
    run: Callable[[LessonConfig], LessonResult]
    uses_mnist: bool = False


# In the order the workshop teaches them.
LESSONS: dict[str, Lesson] = {
    module.NAME: Lesson(module.DESCRIPTION, module.run, getattr(module, "USES_MNIST", False))
    for module in (
        why_deep,  # chapter 1
        triangle,
        regression,
        gradient_descent,
        perceptron,
        activations,
        backpropagation,
        vanishing_gradients,
        softmax_by_hand,
        softmax_weights,
        plain_pytorch,
        slash_world,
        xo_world,
        convolution,  # chapter 14: the last lesson
    )
}


def lesson_names() -> list[str]:
    """Every lesson's name, in teaching order."""
    return list(LESSONS)


def get_lesson(name: str) -> Lesson:
    """The lesson called `name`; ConfigError listing the known names if there is none."""
    if name not in LESSONS:
        raise ConfigError(f"unknown lesson '{name}'; choose one of: {', '.join(LESSONS)}")
    return LESSONS[name]


def run_lesson(name: str, config: LessonConfig) -> LessonResult:
    """Run lesson `name`: figures and `result.json` land in `config.out_dir`."""
    lesson = get_lesson(name)
    config.out_dir.mkdir(parents=True, exist_ok=True)
    result = lesson.run(config)
    write_result(result, config.out_dir)
    return result


__all__ = [
    "LESSONS",
    "RESULT_FILE",
    "Lesson",
    "LessonConfig",
    "LessonResult",
    "get_lesson",
    "lesson_names",
    "run_lesson",
    "story_text",
]
