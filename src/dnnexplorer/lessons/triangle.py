"""Lesson `triangle`: "given three lengths, can they form a triangle?" Rule vs data.

The slides' first question, answered twice. A programmer writes the rule; machine learning, the
data-driven approach, shows the computer labelled examples instead and lets it find the rule.
The hand-written rule is the triangle inequality: every side is shorter than the other two
together (a + b > c, a + c > b, b + c > a); equality gives a flat, degenerate "triangle", which
we count as no triangle. The data-driven approach never sees the rule, only labelled examples.

Data (synthetic): each triple is (u1, u2, u3)·s with u uniform in (0, 1] and a scale s
log-uniform in [0.1, 10], so that sizes vary a hundredfold; about half the triples are
triangles. A small network (one hidden layer of 16 ReLU neurons) learns from 2,000 triples (the
slides' training data) and is tested on 2,000 others (the test data), with three encodings of
the same triple:
- raw: (a, b, c) as given; the network must discover the three inequalities;
- sorted: the sides in increasing order s1 <= s2 <= s3; the rule becomes s1 + s2 > s3, one
  straight cut;
- ratios: (s1/s3, s2/s3); the size is gone too, and the rule is s1/s3 + s2/s3 > 1.
Choosing good inputs is part of the design: the same network learns faster and better.
The network is trained here and explained in later chapters (neurons in 5, activations in 6,
backpropagation in 7); this lesson only needs "a function with many knobs, tuned on examples".
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from dnnexplorer.errors import ConfigError
from dnnexplorer.lessons.base import LessonConfig, LessonResult, new_figure, save, seeded_torch

NAME = "triangle"
DESCRIPTION = "Can three lengths form a triangle? The hand-written rule vs a learned network"

ENCODINGS = ("raw", "sorted", "ratios")
N_TRAIN, N_TEST, HIDDEN = 2000, 2000, 16
STEPS, LR, EVAL_EVERY = 300, 0.01, 10
NEAR_DEGENERATE = 0.1  # |slack| below this: within 10% of a flat triangle

Labelled = tuple[torch.Tensor, torch.Tensor]  # triples (n, 3) and their labels 1.0 / 0.0 (n,)


def check_sides(a: object, b: object, c: object) -> tuple[float, float, float]:
    """Return the three lengths as floats, or raise ConfigError naming the bad one.

    A length must be a real, finite number greater than zero.
    """
    sides = []
    for name, value in zip("abc", (a, b, c), strict=True):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"side {name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"side {name} must be a finite number, got {value!r}")
        if value <= 0:
            raise ConfigError(f"side {name} must be greater than zero, got {value!r}")
        sides.append(float(value))
    return sides[0], sides[1], sides[2]


def is_triangle(a: float, b: float, c: float) -> bool:
    """The hand-written rule: each side is shorter than the sum of the other two."""
    a, b, c = check_sides(a, b, c)
    return a + b > c and a + c > b and b + c > a


def split(seed: int) -> tuple[Labelled, Labelled]:
    """The lesson's data: (training triples, labels) and (test triples, labels), drawn apart."""
    generator = torch.Generator().manual_seed(seed)
    return make_triples(N_TRAIN, generator), make_triples(N_TEST, generator)


def make_triples(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n random triples (n, 3) and their labels by the rule, 1.0 or 0.0 (n,)."""
    u = 1.0 - torch.rand(n, 3, generator=generator, dtype=torch.float64)  # in (0, 1]
    log_scale = torch.empty(n, 1, dtype=torch.float64).uniform_(
        math.log(0.1), math.log(10.0), generator=generator
    )
    sides = u * log_scale.exp()  # (n, 3)
    return sides, (slack(sides) > 0).double()


def slack(sides: torch.Tensor) -> torch.Tensor:
    """(s1 + s2 − s3) / s3 for sorted sides: > 0 triangle, 0 flat, < 0 none. (n, 3) -> (n,)."""
    s, _ = sides.sort(dim=1)
    return (s[:, 0] + s[:, 1] - s[:, 2]) / s[:, 2]


def encode(sides: torch.Tensor, encoding: str) -> torch.Tensor:
    """The network's input for each triple: raw (n, 3), sorted (n, 3) or ratios (n, 2)."""
    if encoding == "raw":
        return sides
    s, _ = sides.sort(dim=1)  # (n, 3), increasing
    if encoding == "sorted":
        return s
    if encoding == "ratios":
        return s[:, :2] / s[:, 2:]  # (n, 2): the two shorter sides over the longest
    raise ConfigError(f"unknown encoding {encoding!r}; choose one of {', '.join(ENCODINGS)}")


def train_classifier(
    encoding: str, train: Labelled, test: Labelled, seed: int
) -> tuple[nn.Module, list[float]]:
    """Train the small network on one encoding; held-out accuracy every EVAL_EVERY steps."""
    x_train, x_test = encode(train[0], encoding).float(), encode(test[0], encoding).float()
    y_train = train[1].float()
    with seeded_torch(seed):
        net = nn.Sequential(nn.Linear(x_train.shape[1], HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 1))
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    curve = []
    for step in range(1, STEPS + 1):
        logits = net(x_train).squeeze(1)  # (n,)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % EVAL_EVERY == 0:
            curve.append(float((predict(net, x_test) == test[1].bool()).double().mean()))
    return net.eval(), curve


def predict(net: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """True where the network says "triangle" (logit > 0)."""
    with torch.no_grad():
        return net(inputs.float()).squeeze(1) > 0


def classify(net: nn.Module, encoding: str, a: float, b: float, c: float) -> bool:
    """The trained network's answer for one triple (checked like the rule's input)."""
    sides = torch.tensor([check_sides(a, b, c)], dtype=torch.float64)  # (1, 3)
    return bool(predict(net, encode(sides, encoding))[0])


def error_report(wrong: torch.Tensor, test_slack: torch.Tensor) -> dict:
    """Where the network errs: how close to a flat triangle its mistakes are."""
    near = test_slack.abs() < NEAR_DEGENERATE
    return {
        "errors": int(wrong.sum()),
        "error_rate_near_degenerate": float(wrong[near].float().mean()) if near.any() else 0.0,
        "error_rate_elsewhere": float(wrong[~near].float().mean()),
        "share_of_errors_near_degenerate": float(near[wrong].float().mean())
        if wrong.any()
        else 0.0,
        "median_abs_slack_of_errors": float(test_slack[wrong].abs().median())
        if wrong.any()
        else None,
        "median_abs_slack_overall": float(test_slack.abs().median()),
    }


def _plot_curves(config: LessonConfig, curves: dict, always_no: float, figures: list) -> None:
    fig = new_figure()
    ax = fig.add_subplot()
    for encoding, curve in curves.items():
        ax.plot(range(EVAL_EVERY, STEPS + 1, EVAL_EVERY), curve, label=f"{encoding} inputs")
    ax.axhline(always_no, color="0.5", linestyle=":", label='always "no triangle"')
    ax.set(xlabel="training step", ylabel="test accuracy", title="Same network, three inputs")
    ax.set_ylim(0.4, 1.0)
    ax.legend()
    save(fig, config, "accuracy", figures)


def _plot_errors(config: LessonConfig, test: tuple, wrong: dict, figures: list) -> None:
    ratios = encode(test[0], "ratios").numpy()  # (n, 2)
    fig = new_figure(12, 4)
    for i, (encoding, mask) in enumerate(wrong.items()):
        ax = fig.add_subplot(1, len(wrong), i + 1)
        m = mask.numpy()
        ax.scatter(ratios[~m, 0], ratios[~m, 1], s=3, color="0.8", label="right")
        ax.scatter(ratios[m, 0], ratios[m, 1], s=8, color="C3", label=f"wrong ({m.sum()})")
        ax.plot([0, 1], [1, 0], "k--", linewidth=1)  # s1/s3 + s2/s3 = 1: flat triangles
        ax.set(xlabel="s1 / s3", title=f"{encoding} inputs", xlim=(0, 1), ylim=(0, 1))
        ax.legend(loc="lower left", fontsize=8)
    fig.axes[0].set_ylabel("s2 / s3")
    fig.suptitle("Test triples by shape: triangles lie above the dashed line s1 + s2 = s3")
    save(fig, config, "errors", figures)


def run(config: LessonConfig) -> LessonResult:
    """Train the same network on three encodings and compare it with the rule."""
    train, test = split(config.seed)
    test_slack = slack(test[0])
    results, curves, wrong = {}, {}, {}
    for i, encoding in enumerate(ENCODINGS):
        net, curve = train_classifier(encoding, train, test, config.seed + i)
        wrong[encoding] = predict(net, encode(test[0], encoding)) != test[1].bool()
        curves[encoding] = curve
        right_on_train = predict(net, encode(train[0], encoding)) == train[1].bool()
        results[encoding] = {
            "accuracy": 1.0 - float(wrong[encoding].double().mean()),
            "train_accuracy": float(right_on_train.double().mean()),
            "accuracy_per_step": curve,
            **error_report(wrong[encoding], test_slack),
        }
    always_no = 1.0 - float(test[1].mean())  # the lazy model: right on every non-triangle
    figures: list = []
    _plot_curves(config, curves, always_no, figures)
    _plot_errors(config, test, wrong, figures)
    numbers = {
        "n_train": N_TRAIN,
        "n_test": N_TEST,
        "share_triangles": float(test[1].mean()),
        "always_no_accuracy": always_no,
        "steps": STEPS,
        "near_degenerate_threshold": NEAR_DEGENERATE,
        "encodings": results,
        "examples": {"3,4,5": is_triangle(3, 4, 5), "1,2,3": is_triangle(1, 2, 3)},
    }
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, _story(numbers))


def _summary(n: dict) -> list[str]:
    lines = [
        "The rule: a + b > c, a + c > b and b + c > a. "
        f"(3, 4, 5): {n['examples']['3,4,5']}; (1, 2, 3) is flat: {n['examples']['1,2,3']}.",
        f"A 16-neuron network learned it from {n['n_train']} labelled triples "
        f"({n['share_triangles']:.0%} triangles); held-out accuracy after {n['steps']} steps:",
    ]
    for encoding, r in n["encodings"].items():
        lines.append(
            f"  {encoding:<7} {r['accuracy']:.1%}  ({r['errors']} errors; error rate "
            f"{r['error_rate_near_degenerate']:.0%} near flat triangles vs "
            f"{r['error_rate_elsewhere']:.1%} elsewhere)"
        )
    lines.append(
        "Its mistakes crowd around flat triangles, where a tiny change of one side flips the "
        "answer. Sorting the sides (or dividing by the longest) turns the rule into one straight "
        "cut, which the network finds quickly."
    )
    return lines


def _story(n: dict) -> list[str]:
    raw, srt, rat = (n["encodings"][e] for e in ENCODINGS)
    return [
        "Given three lengths a, b and c, can they form a triangle? This lesson answers the "
        "slides' first question twice. A programmer writes the rule, the triangle inequality: "
        "a + b > c, a + c > b and b + c > a: every side shorter than the other two together "
        f"((3, 4, 5) {_passes(n['examples']['3,4,5'])}; (1, 2, 3), a flat triangle, "
        f"{_passes(n['examples']['1,2,3'])}). The slides define machine learning as getting "
        "computers to learn a task without being explicitly programmed for it. In their "
        "data-driven approach we give the computer many labelled examples and a learning "
        "algorithm, not the rule. Here a small neural network (16 neurons; how it works is the "
        "subject of chapters 5 to 7) sees only triples labelled "
        '"triangle" or "not a triangle".',
        f"The data are split as the slides split every data set: {n['n_train']} training "
        f"triples, from which the network learns, and {n['n_test']} test triples that it never "
        f"sees while learning, on which it is graded. {n['share_triangles']:.0%} of the test "
        f'triples are triangles, so a lazy model that always answers "no" already scores '
        f"{n['always_no_accuracy']:.0%}: that is the mark to beat, the dotted line of "
        "accuracy.png.",
        f"Given the raw lengths (a, b, c), the network gets {raw['accuracy']:.1%} of the test "
        f"triples right after {n['steps']} training steps, and {raw['train_accuracy']:.1%} of "
        "its training triples. The two are close: it learned something that holds for triples "
        "it has never seen, not a list of answers by heart. It never saw a + b > c, yet found "
        "most of it from examples; the hand-written rule, by construction, is right every time.",
        f"Its {raw['errors']} mistakes are not spread evenly. On test triples within 10% of a "
        "flat triangle (the longest side almost as long as the other two together) it errs "
        f"{raw['error_rate_near_degenerate']:.0%} of the time, elsewhere "
        f"{raw['error_rate_elsewhere']:.1%}. errors.png places every test triple by its shape "
        "(s1/s3, s2/s3, with the sides sorted and s3 the longest): the red mistakes hug the "
        "dashed line of flat triangles, where a tiny change of one side flips the answer.",
        "What the network is shown matters too. With the sides sorted (s1 <= s2 <= s3) the "
        "three inequalities become one straight cut, "
        f"s1 + s2 > s3, and the same network reaches {srt['accuracy']:.1%}; with the ratios "
        "s1/s3 and s2/s3 the size is gone too (the rule is s1/s3 + s2/s3 > 1) and it reaches "
        f"{rat['accuracy']:.1%}. Choosing the inputs is part of the design.",
        "Take-away: a rule written by hand is exact when someone knows it; a model learned from "
        "examples gets close without it, errs where examples are ambiguous, and is judged on "
        "test data it did not learn from. Next, chapter 3 opens the box with the simplest "
        "learning machine of all: a straight line fitted to data by least squares.",
    ]


def _passes(triangle: bool) -> str:
    return "passes" if triangle else "fails"
