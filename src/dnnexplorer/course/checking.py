"""Exercises and their checks: the learner types an answer, a check says "correct" or why not.

An `Exercise` holds a question, a `solution` that *computes* the reference answer with the
project's own code (never a number typed in by hand), and a `judge` that compares the learner's
answer with it. A judge returns None when the answer is right, or one sentence saying what is
still wrong ("it has shape (10, 784); the slides' W has one column per class"). It never raises:
a string where a number belongs, a function that crashes or the placeholder `...` all get a
plain "not yet" with the reason, never a traceback.

The judges below cover the kinds of answer the chapters ask for: a number (to a tolerance), a
whole number, a choice among a few, a shape, an array, and a function the learner writes (it is
called on test inputs and compared with the reference function).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

Judge = Callable[[Any, Any], "str | None"]


@dataclass(frozen=True)
class Exercise:
    """One exercise of a chapter.

    `key`: short and unique within its chapter; the exercise's id is "chapter/key".
    `question`: what is asked, in one or two sentences (the notebook states it at length).
    `solution`: computes the reference answer from the project's code.
    `judge(answer, reference)`: None when right, else one sentence saying why not.
    `wrong`: a typical wrong answer (the usual mistake): the tests check it is refused.
    `why`: shown with "Correct": what the right answer means.
    `hint`: shown with "Not yet", after the reason.
    """

    chapter: str
    key: str
    question: str
    solution: Callable[[], Any]
    judge: Judge
    wrong: Any
    why: str = ""
    hint: str = ""

    @property
    def id(self) -> str:
        return f"{self.chapter}/{self.key}"


@dataclass(frozen=True)
class Verdict:
    """What `check` says: `correct`, and the message a learner reads.

    It is true when the answer is correct, prints as its message, and shows as a coloured
    box in a notebook.
    """

    exercise: str
    correct: bool
    message: str
    details: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return "\n".join([self.message, *self.details])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour, mark = ("#1b7f3b", "✔") if self.correct else ("#a15c00", "✘")
        lines = "".join(f"<div>{html.escape(line)}</div>" for line in self.details)
        return (
            f'<div style="border-left: 4px solid {colour}; padding: 4px 10px;">'
            f"<b style='color: {colour}'>{mark} {html.escape(self.message)}</b>{lines}</div>"
        )


def verdict(exercise: Exercise, answer: Any) -> Verdict:
    """Judge `answer` to `exercise`; never raises, whatever the answer is."""
    if answer is Ellipsis:
        reason = "replace the `...` with your answer, then run the cell again"
        return Verdict(exercise.id, False, f"Not yet: {reason}.")
    try:
        reason = exercise.judge(answer, exercise.solution())
    except Exception as e:  # a learner's function may raise anything: say so, do not crash
        reason = f"checking your answer raised {type(e).__name__}: {e}"
    if reason is None:
        return Verdict(exercise.id, True, "Correct!", [exercise.why] if exercise.why else [])
    details = [f"Hint: {exercise.hint}"] if exercise.hint else []
    return Verdict(exercise.id, False, f"Not yet: {reason}.", details)


# ---------------------------------------------------------------------------------------------
# Judges. Each factory returns a judge(answer, reference) -> None | reason.


def _as_number(answer: Any) -> float | None:
    """A real number from an int, float, numpy scalar or one-element tensor/array; else None."""
    if isinstance(answer, (bool, np.bool_)):
        return None
    if isinstance(answer, torch.Tensor):
        answer = answer.detach().cpu().numpy()
    if isinstance(answer, np.ndarray) and answer.size == 1:
        answer = answer.item()
    if isinstance(answer, (int, float, np.integer, np.floating)) and not isinstance(answer, bool):
        return float(answer)
    return None


def _describe(answer: Any) -> str:
    text = repr(answer)
    return text if len(text) <= 40 else text[:37] + "..."


def number(
    rel: float = 1e-3,
    abs_tol: float = 1e-6,
    mistakes: Mapping[float, str] | None = None,
) -> Judge:
    """A real number within `rel` (relative) or `abs_tol` (absolute) of the reference.

    `mistakes` maps the value a known mistake produces to what went wrong (matched with the same
    tolerance), e.g. {0.0458: "that is log base 10; cross-entropy uses the natural log"}.
    """

    def close(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)

    def judge(answer: Any, reference: Any) -> str | None:
        value = _as_number(answer)
        if value is None:
            return f"expected a number, got {_describe(answer)}"
        if not math.isfinite(value):
            return f"{value} is not a finite number"
        ref = float(reference)
        if close(value, ref):
            return None
        for wrong, reason in (mistakes or {}).items():
            if close(value, wrong):
                return reason
        if ref != 0 and close(value, -ref):
            return f"{value:.6g} has the wrong sign"
        side = "too large" if value > ref else "too small"
        return f"{value:.6g} is {side}"

    return judge


def whole_number(mistakes: Mapping[int, str] | None = None) -> Judge:
    """An exact whole number (an int, or a float with no fractional part)."""

    def judge(answer: Any, reference: Any) -> str | None:
        value = _as_number(answer)
        if value is None or not float(value).is_integer():
            return f"expected a whole number, got {_describe(answer)}"
        if int(value) == int(reference):
            return None
        if int(value) in (mistakes or {}):
            return (mistakes or {})[int(value)]
        return f"{int(value)} is {'too large' if value > reference else 'too small'}"

    return judge


def choice(options: Sequence[str], mistakes: Mapping[str, str] | None = None) -> Judge:
    """One of a few named options, compared without regard to case or surrounding spaces.

    `mistakes` maps a wrong option to why it is wrong.
    """
    normal = {o.strip().lower(): o for o in options}

    def judge(answer: Any, reference: Any) -> str | None:
        if not isinstance(answer, str) or answer.strip().lower() not in normal:
            return f"answer with one of {', '.join(repr(o) for o in options)}"
        picked = answer.strip().lower()
        if picked == str(reference).strip().lower():
            return None
        for wrong, reason in (mistakes or {}).items():
            if picked == wrong.strip().lower():
                return reason
        return f"{normal[picked]!r} is not it"

    return judge


def _as_shape(answer: Any) -> tuple[int, ...] | None:
    if isinstance(answer, (torch.Tensor, np.ndarray)):
        return None  # a tensor is not its shape: ask for `.shape`
    if isinstance(answer, (tuple, list, torch.Size)) and all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in answer
    ):
        return tuple(int(d) for d in answer)
    return None


def shape(mistakes: Mapping[tuple[int, ...], str] | None = None) -> Judge:
    """A tensor shape: a tuple or list of whole numbers, or a torch.Size."""

    def judge(answer: Any, reference: Any) -> str | None:
        got = _as_shape(answer)
        if got is None:
            return f"expected a shape such as (2, 3), got {_describe(answer)}"
        want = tuple(int(d) for d in reference)
        if got == want:
            return None
        if got in (mistakes or {}):
            return (mistakes or {})[got]
        if len(got) != len(want):
            return f"{got} has {len(got)} dimensions; the answer has {len(want)}"
        if sorted(got) == sorted(want):
            return f"{got} has the right sizes in the wrong order"
        return f"{got} is not the shape"

    return judge


def _as_array(answer: Any) -> np.ndarray | None:
    if isinstance(answer, torch.Tensor):
        return answer.detach().cpu().double().numpy()
    try:
        array = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array


def array(atol: float = 1e-4, rtol: float = 1e-4) -> Judge:
    """An array (list of lists, NumPy array or tensor) equal to the reference within tolerance."""

    def judge(answer: Any, reference: Any) -> str | None:
        got, want = _as_array(answer), _as_array(reference)
        if got is None or (got.ndim == 0 and want.ndim > 0):
            return f"expected an array of shape {want.shape}, got {_describe(answer)}"
        if got.shape != want.shape:
            return f"it has shape {got.shape}; the answer has shape {want.shape}"
        if not np.all(np.isfinite(got)):
            return "it holds NaN or infinite values"
        wrong = ~np.isclose(got, want, atol=atol, rtol=rtol)
        if not wrong.any():
            return None
        if np.allclose(got, -want, atol=atol, rtol=rtol):
            return "every entry has the wrong sign"
        if wrong.size == 1:
            return f"{got.item():.6g} is {'too large' if got.item() > want.item() else 'too small'}"
        return f"{int(wrong.sum())} of its {wrong.size} entries differ from the answer"

    return judge


def function(
    inputs: Callable[[], Sequence[tuple[Any, ...]]],
    atol: float = 1e-5,
    rtol: float = 1e-5,
) -> Judge:
    """A function the learner writes, compared with the reference function on test inputs.

    `inputs()` gives the argument tuples to call both with. The outputs are compared as arrays.
    """
    compare = array(atol=atol, rtol=rtol)

    def judge(answer: Any, reference: Any) -> str | None:
        if not callable(answer):
            return f"expected a function, got {_describe(answer)}"
        for args in inputs():
            try:
                got = answer(*args)
            except Exception as e:  # the learner's code: report, do not crash
                return f"calling it raised {type(e).__name__}: {e}"
            if got is Ellipsis:  # the placeholder body `return ...` is still there
                return "replace the `...` in your function with your code, then run the cell again"
            reason = compare(got, reference(*args))
            if reason is not None:
                shown = ", ".join(_describe(a) for a in args)
                return f"for the input {shown}: {reason}"
        return None

    return judge
