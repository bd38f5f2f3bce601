"""Lesson `slash-world`: a 2x2 world with two characters, "/" and "\\", and one filter.

Pixels are +1 (ink) or −1 (paper). Lay a 2x2 filter over an image and take the dot product
(multiply pixel by pixel, add up): with the filter [[+1, −1], [−1, +1]] the score is +4 for a
clean "\\" and −4 for a clean "/"; the sign tells which character it is. The "poorly drawn" (one
stray ink pixel) and "incomplete" (one ink pixel missing) variants score ±2: the sign still
tells. Vertical and horizontal bars score 0: the filter has "no idea" (the workshop's exercise).
The negated filter works as well, with the signs swapped.

How do we find such a filter? Three ways, as the workshop shows:
1. exhaustively: all 2⁴ = 16 filters with ±1 entries, each scored on the labelled images;
2. random search: start from a random filter, try changing each entry, keep the best change;
3. gradient descent on a real-valued filter, minimising the logistic loss of the scores.
Taught after Luis Serrano's "A friendly introduction to Convolutional Neural Networks".
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from dnnexplorer.lessons.base import LessonConfig, LessonResult, pixel_grid

NAME = "slash-world"
DESCRIPTION = 'The 2x2 world of "/" and "\\": one filter, found exhaustively, randomly and by GD'

BACKSLASH, SLASH, NO_IDEA = 1, -1, 0  # labels: the sign of the score we want
WORKSHOP_FILTER = np.array([[1, -1], [-1, 1]])
GD_STEPS, GD_LR = 200, 0.5


def _img(rows: list[list[int]]) -> np.ndarray:
    return np.array(rows, dtype=np.int64)


# name -> (2x2 image, label). Variants: one pixel away from a clean slash.
IMAGES: dict[str, tuple[np.ndarray, int]] = {
    "\\": (_img([[1, -1], [-1, 1]]), BACKSLASH),
    "/": (_img([[-1, 1], [1, -1]]), SLASH),
    "poorly drawn / (stray top-left)": (_img([[1, 1], [1, -1]]), SLASH),
    "poorly drawn / (stray bottom-right)": (_img([[-1, 1], [1, 1]]), SLASH),
    "incomplete / (no top-right)": (_img([[-1, -1], [1, -1]]), SLASH),
    "incomplete / (no bottom-left)": (_img([[-1, 1], [-1, -1]]), SLASH),
    "poorly drawn \\ (stray top-right)": (_img([[1, 1], [-1, 1]]), BACKSLASH),
    "poorly drawn \\ (stray bottom-left)": (_img([[1, -1], [1, 1]]), BACKSLASH),
    "incomplete \\ (no top-left)": (_img([[-1, -1], [-1, 1]]), BACKSLASH),
    "incomplete \\ (no bottom-right)": (_img([[1, -1], [-1, -1]]), BACKSLASH),
    "vertical bar (left)": (_img([[1, -1], [1, -1]]), NO_IDEA),
    "vertical bar (right)": (_img([[-1, 1], [-1, 1]]), NO_IDEA),
    "horizontal bar (top)": (_img([[1, 1], [-1, -1]]), NO_IDEA),
    "horizontal bar (bottom)": (_img([[-1, -1], [1, 1]]), NO_IDEA),
}


def labelled() -> tuple[np.ndarray, np.ndarray]:
    """The images with a known answer, stacked: (k, 2, 2) and labels ±1 (k,)."""
    pairs = [(im, y) for im, y in IMAGES.values() if y != NO_IDEA]
    return np.stack([im for im, _ in pairs]), np.array([y for _, y in pairs])


def score(filt: np.ndarray, image: np.ndarray) -> float:
    """The dot product of a filter and an image: > 0 means "\\", < 0 "/", 0 "no idea"."""
    return (np.asarray(filt) * image).sum().item()


def all_filters() -> list[np.ndarray]:
    """Every 2x2 filter with entries ±1, in a fixed order (2·2·2·2 = 16 of them)."""
    return [np.array(v).reshape(2, 2) for v in itertools.product((1, -1), repeat=4)]


def evaluate(filt: np.ndarray) -> dict:
    """How one filter does: its scores on the clean slashes, correct count, total agreement.

    Agreement = Σ label·score over the labelled images: large when every "\\" scores high
    and every "/" scores low. It is the quantity the searches below maximise.
    """
    images, labels = labelled()
    scores = (images * filt).sum(axis=(1, 2))  # (k,)
    back, slash = score(filt, IMAGES["\\"][0]), score(filt, IMAGES["/"][0])
    return {
        "filter": np.asarray(filt).tolist(),
        "score_backslash": back,
        "score_slash": slash,
        "separates_clean": back > 0 > slash,
        "correct": int((labels * scores > 0).sum()),
        "agreement": float((labels * scores).sum()),
    }


def exhaustive_search() -> list[dict]:
    """Score all 16 filters; the table the workshop's "vanilla way" builds."""
    return [evaluate(f) for f in all_filters()]


def random_search(rng: np.random.Generator, max_steps: int = 20) -> list[dict]:
    """Start from a random ±1 filter; each step try flipping each entry, keep the best change.

    Stops when no single change improves the agreement. Returns the path, start included.
    """
    filt = rng.choice([-1, 1], size=(2, 2))
    path = [evaluate(filt)]
    for _ in range(max_steps):
        changes = []
        for i, j in itertools.product(range(2), range(2)):
            candidate = filt.copy()
            candidate[i, j] *= -1
            changes.append((evaluate(candidate)["agreement"], candidate))
        best_agreement, best = max(changes, key=lambda c: c[0])
        if best_agreement <= path[-1]["agreement"]:
            break
        filt = best
        path.append(evaluate(filt))
    return path


def gradient_descent(seed: int) -> dict:
    """Learn a real-valued filter from small random numbers by gradient descent.

    The loss is the logistic loss log(1 + exp(−label·score)): small when each score has the
    sign of its label and is large. Its gradient pushes the filter towards "\\" pixels and
    away from "/" pixels.
    """
    generator = torch.Generator().manual_seed(seed)
    filt = (0.1 * torch.randn(2, 2, generator=generator, dtype=torch.float64)).requires_grad_()
    images, labels = (torch.from_numpy(a).double() for a in labelled())  # (k, 2, 2), (k,)
    initial = filt.detach().clone()
    for _ in range(GD_STEPS):
        scores = (images * filt).sum(dim=(1, 2))  # (k,): one dot product per image
        loss = torch.nn.functional.softplus(-labels * scores).mean()
        loss.backward()
        with torch.no_grad():
            filt -= GD_LR * filt.grad
        filt.grad = None
    learned = filt.detach().numpy()
    return {
        "initial_filter": initial.numpy(),
        "filter": learned,
        "normalized_filter": learned / np.abs(learned).max(),
        "sign_pattern": np.sign(learned).astype(int),
        "final_loss": loss.item(),
        "correct": int((labels.numpy() * (images.numpy() * learned).sum(axis=(1, 2)) > 0).sum()),
    }


def _verdict(value: float) -> str:
    return "\\" if value > 0 else "/" if value < 0 else "no idea"


def _filter_text(filt) -> str:
    return "[" + " / ".join(" ".join(f"{int(v):+d}" for v in row) for row in filt) + "]"


def run(config: LessonConfig) -> LessonResult:
    """Score every image with the workshop's filter, then find that filter three ways."""
    table = exhaustive_search()
    best = max(table, key=lambda r: r["agreement"])
    path = random_search(np.random.default_rng(config.seed))
    learned = gradient_descent(config.seed)
    workshop = {
        name: {
            "label": y,
            "score": score(WORKSHOP_FILTER, im),
            "verdict": _verdict(score(WORKSHOP_FILTER, im)),
        }
        for name, (im, y) in IMAGES.items()
    }
    learned["scores"] = {name: score(learned["filter"], im) for name, (im, _) in IMAGES.items()}
    figures: list = []
    names = list(IMAGES)
    titles = [f"{n.replace(' (', chr(10) + '(')}\nscore {workshop[n]['score']:+d}" for n in names]
    suptitle = "The 2x2 world and its scores with the filter [[+1,-1],[-1,+1]]"
    images = [IMAGES[n][0] for n in names]
    pixel_grid(config, "images", images, titles, figures, ncols=7, suptitle=suptitle)
    filters = [np.array(r["filter"]) for r in table] + [learned["filter"]]
    titles = [f"agreement {r['agreement']:+.0f}" for r in table] + ["learned by GD"]
    suptitle = "All 16 filters with ±1 entries, and the one gradient descent found"
    pixel_grid(
        config, "filters", filters, titles, figures, limit=2.5, annotate=True, suptitle=suptitle
    )
    numbers = {
        "workshop_filter": WORKSHOP_FILTER,
        "workshop_scores": workshop,
        "filter_table": table,
        "best_filter": best["filter"],
        "separating_filters": [r["filter"] for r in table if r["separates_clean"]],
        "random_search": {"path": path, "found": path[-1]["filter"], "steps": len(path) - 1},
        "gradient_descent": learned,
    }
    return LessonResult(NAME, config.seed, numbers, _explain(numbers), figures)


def _explain(n: dict) -> list[str]:
    lines = ["Scores with the filter [+1 -1 / -1 +1] (> 0: \\, < 0: /, 0: no idea):"]
    for name, r in n["workshop_scores"].items():
        lines.append(f"  {name:<36} {r['score']:+3d}  -> {r['verdict']}")
    lines.append(
        "All 16 filters (scores on the clean \\ and /, correct of 10 labelled, agreement):"
    )
    for r in n["filter_table"]:
        mark = "  separates" if r["separates_clean"] else ""
        lines.append(
            f"  {_filter_text(r['filter'])}  \\:{r['score_backslash']:+d} /:{r['score_slash']:+d}"
            f"  correct {r['correct']:>2}  agreement {r['agreement']:+4.0f}{mark}"
        )
    rs, gd = n["random_search"], n["gradient_descent"]
    lines += [
        f"Best of the 16: {_filter_text(n['best_filter'])}; "
        f"{len(n['separating_filters'])} filters separate the clean slashes (\\ > 0 > /): those "
        "that agree with it in at least 3 of the 4 entries. Its negation separates them too, "
        "with the signs swapped.",
        f"Random search from {_filter_text(rs['path'][0]['filter'])} reached "
        f"{_filter_text(rs['found'])} in {rs['steps']} steps.",
        "Gradient descent learned "
        + "["
        + " / ".join(" ".join(f"{v:+.2f}" for v in row) for row in gd["filter"])
        + "]"
        + f", signs {_filter_text(gd['sign_pattern'])}, {gd['correct']} of 10 correct.",
    ]
    return lines
