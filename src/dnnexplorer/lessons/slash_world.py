"""Lesson `slash-world`: a 2x2 world with two characters, "/" and "\\", and one filter.

Pixels are +1 (ink) or −1 (paper). The dot product of a 2x2 filter and an image (multiply pixel
by pixel, add up) scores it. The workshop's filter [[−1, +1], [+1, −1]] is the "/" itself: > 0
means "/", < 0 "\\", 0 "no idea" (the bars of the workshop's exercise); its negation works as
well, with the signs swapped. The filter is then found three ways, as the workshop shows: by
trying all 2⁴ = 16 filters with ±1 entries, by random search (flip the entry that helps most),
and by gradient descent on a real-valued filter (logistic loss of the scores).
Taught after Luis Serrano's "A friendly introduction to Convolutional Neural Networks".
"""

from __future__ import annotations

import numpy as np
import torch

from dnnexplorer.lessons.base import LessonConfig, LessonResult, pixel_grid

NAME = "slash-world"
DESCRIPTION = 'The 2x2 world of "/" and "\\": one filter, found exhaustively, randomly and by GD'

SLASH, BACKSLASH, NO_IDEA = 1, -1, 0  # labels: the sign of the score we want
WORKSHOP_FILTER = np.array([[-1, 1], [1, -1]])  # the "/" itself: a score > 0 means "/"
SWAPPED_FILTER = -WORKSHOP_FILTER  # "the same effect", with the signs swapped
GD_STEPS, GD_LR = 200, 0.5

# name -> (2x2 image, label). Variants: one pixel away from a clean slash.
IMAGES: dict[str, tuple[np.ndarray, int]] = {
    "/": (np.array([[-1, 1], [1, -1]]), SLASH),
    "\\": (np.array([[1, -1], [-1, 1]]), BACKSLASH),
    "poorly drawn / (stray top-left)": (np.array([[1, 1], [1, -1]]), SLASH),
    "poorly drawn / (stray bottom-right)": (np.array([[-1, 1], [1, 1]]), SLASH),
    "incomplete / (no top-right)": (np.array([[-1, -1], [1, -1]]), SLASH),
    "incomplete / (no bottom-left)": (np.array([[-1, 1], [-1, -1]]), SLASH),
    "poorly drawn \\ (stray top-right)": (np.array([[1, 1], [-1, 1]]), BACKSLASH),
    "poorly drawn \\ (stray bottom-left)": (np.array([[1, -1], [1, 1]]), BACKSLASH),
    "incomplete \\ (no top-left)": (np.array([[-1, -1], [-1, 1]]), BACKSLASH),
    "incomplete \\ (no bottom-right)": (np.array([[1, -1], [-1, -1]]), BACKSLASH),
    "vertical bar (left)": (np.array([[1, -1], [1, -1]]), NO_IDEA),
    "vertical bar (right)": (np.array([[-1, 1], [-1, 1]]), NO_IDEA),
    "horizontal bar (top)": (np.array([[1, 1], [-1, -1]]), NO_IDEA),
    "horizontal bar (bottom)": (np.array([[-1, -1], [1, 1]]), NO_IDEA),
}
WORKED_EXERCISE = ("vertical bar (right)", "horizontal bar (bottom)")  # the slides' two images
INCOMPLETE = "incomplete \\ (no top-left)"  # named here: an f-string cannot hold a backslash


def labelled() -> tuple[np.ndarray, np.ndarray]:
    """The images with a known answer, stacked: (k, 2, 2) and labels ±1 (k,)."""
    pairs = [(im, y) for im, y in IMAGES.values() if y != NO_IDEA]
    return np.stack([im for im, _ in pairs]), np.array([y for _, y in pairs])


def overlay(filt: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Lay the filter on the image and multiply pixel by pixel: +1 where they agree, −1 not."""
    return np.asarray(filt) * np.asarray(image)


def score(filt: np.ndarray, image: np.ndarray) -> float:
    """The dot product of a filter and an image: the sum of the overlay's products."""
    return overlay(filt, image).sum().item()


def all_patterns() -> list[np.ndarray]:
    """Every 2x2 array with entries ±1 (2·2·2·2 = 16), all filters and all images, in the order
    of the slides' table read row by row (along a row the top row changes, down a column the
    bottom row)."""
    tops = ((1, 1), (1, -1), (-1, 1), (-1, -1))
    bottoms = ((1, 1), (-1, 1), (1, -1), (-1, -1))
    return [np.array([top, bottom]) for bottom in bottoms for top in tops]


def evaluate(filt: np.ndarray) -> dict:
    """How one filter does: its scores on the clean slashes, correct count, and agreement
    Σ label·score over the labelled images (high when "/" scores high and "\\" low)."""
    images, labels = labelled()
    scores = (images * filt).sum(axis=(1, 2))  # (k,)
    slash, back = score(filt, IMAGES["/"][0]), score(filt, IMAGES["\\"][0])
    return {
        "filter": np.asarray(filt).tolist(),
        "score_slash": slash,
        "score_backslash": back,
        "separates_clean": slash > 0 > back,
        "separates_swapped": back > 0 > slash,
        "correct": int((labels * scores > 0).sum()),
        "agreement": float((labels * scores).sum()),
    }


def exhaustive_search() -> list[dict]:
    """Score all 16 filters; the table the workshop's "vanilla way" builds."""
    return [evaluate(f) for f in all_patterns()]


def random_search(rng: np.random.Generator, max_steps: int = 20) -> list[dict]:
    """From a random ±1 filter, flip the entry (of 4) that raises the agreement most, until none
    does. Returns the path, start included."""
    filt = rng.choice([-1, 1], size=(2, 2))
    path = [evaluate(filt)]
    for _ in range(max_steps):
        flips = [filt * np.where(np.arange(4).reshape(2, 2) == k, -1, 1) for k in range(4)]
        best = max(flips, key=lambda f: evaluate(f)["agreement"])
        if evaluate(best)["agreement"] <= path[-1]["agreement"]:
            break
        filt = best
        path.append(evaluate(filt))
    return path


def descend(start: np.ndarray | torch.Tensor, steps: int = GD_STEPS, lr: float = GD_LR) -> dict:
    """Gradient descent on the loss mean(log(1 + exp(−label·score))) from the filter `start`."""
    filt = torch.tensor(np.asarray(start), dtype=torch.float64, requires_grad=True)
    images, labels = (torch.from_numpy(a).double() for a in labelled())  # (k, 2, 2), (k,)
    path, losses = [filt.detach().clone()], []
    for _ in range(steps):
        scores = (images * filt).sum(dim=(1, 2))  # (k,): one dot product per image
        loss = torch.nn.functional.softplus(-labels * scores).mean()  # small: signs right
        loss.backward()
        with torch.no_grad():
            filt -= lr * filt.grad  # towards the "/" pixels, away from the "\\" ones
        filt.grad = None
        path.append(filt.detach().clone())
        losses.append(loss.item())  # the loss of path[t], before its step
    return {"filters": torch.stack(path).numpy(), "losses": np.array(losses)}  # (steps + 1, 2, 2)


def gradient_descent(seed: int) -> dict:
    """Learn a real-valued filter by `descend`ing from small random numbers."""
    generator = torch.Generator().manual_seed(seed)
    found = descend(0.1 * torch.randn(2, 2, generator=generator, dtype=torch.float64))
    return {
        "initial_filter": found["filters"][0],
        "filter": found["filters"][-1],
        "sign_pattern": np.sign(found["filters"][-1]).astype(int),
        "final_loss": float(found["losses"][-1]),
        "correct": evaluate(found["filters"][-1])["correct"],
    }


def verdict(value: float) -> str:
    """What a score says with the workshop's filter: "/", "\\" or "no idea"."""
    return "/" if value > 0 else "\\" if value < 0 else "no idea"


def matrix_text(filt, fmt: str = "+.0f") -> str:
    """A small matrix on one line, signs shown: [[-1, +1], [+1, -1]]."""
    return "[" + ", ".join("[" + ", ".join(f"{v:{fmt}}" for v in row) + "]" for row in filt) + "]"


def run(config: LessonConfig) -> LessonResult:
    """Score every image with the workshop's filter, then find that filter three ways."""
    table = exhaustive_search()
    path = random_search(np.random.default_rng(config.seed))
    learned = gradient_descent(config.seed)
    learned["scores"] = {name: score(learned["filter"], im) for name, (im, _) in IMAGES.items()}
    scores = {name: score(WORKSHOP_FILTER, im) for name, (im, _) in IMAGES.items()}
    numbers = {
        "workshop_filter": WORKSHOP_FILTER,
        "workshop_scores": {
            name: {"label": IMAGES[name][1], "score": v, "verdict": verdict(v)}
            for name, v in scores.items()
        },
        "swapped_filter_scores": {n: score(SWAPPED_FILTER, im) for n, (im, _) in IMAGES.items()},
        "worked_exercise": {
            n: {"products": overlay(WORKSHOP_FILTER, IMAGES[n][0]), "score": scores[n]}
            for n in WORKED_EXERCISE
        },
        "filter_table": table,
        "best_filter": max(table, key=lambda r: r["agreement"])["filter"],
        "separating_filters": [r["filter"] for r in table if r["separates_clean"]],
        "separating_swapped": [r["filter"] for r in table if r["separates_swapped"]],
        "random_search": {"path": path, "found": path[-1]["filter"], "steps": len(path) - 1},
        "gradient_descent": learned,
    }
    figures = _plot(config, numbers)
    story = _story_filter(numbers) + _story_search(numbers)
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, story)


def _plot(config: LessonConfig, n: dict) -> list:
    rs, gd, figures = n["random_search"], n["gradient_descent"], []
    shown = matrix_text(WORKSHOP_FILTER)
    images = [
        (im, name.replace(" (", "\n(") + f"\nscore {score(WORKSHOP_FILTER, im):+d}")
        for name, (im, _) in IMAGES.items()
    ]
    filters = [
        (np.array(r["filter"]), f"/ {r['score_slash']:+d}   \\ {r['score_backslash']:+d}")
        for r in n["filter_table"]
    ]
    found = [
        (np.array(n["best_filter"]), "best of the 16"),
        (np.array(rs["path"][0]["filter"]), "random search:\nstart"),
        (np.array(rs["found"]), f"random search:\nafter {rs['steps']} step(s)"),
        (gd["initial_filter"], "gradient descent:\nstart"),
        (gd["filter"], f"gradient descent:\nafter {GD_STEPS} steps"),
    ]
    for name, pairs, ncols, suptitle in (
        ("images", images, 7, f"The 2x2 world, scored by the filter {shown}"),
        ("filters", filters, 4, "All 16 filters, as in the slides' table,\nscored on / and \\"),
        ("three_ways", found, 5, "Three ways to find the filter, one answer"),
    ):
        arrays, titles = zip(*pairs, strict=True)
        limits = [float(np.abs(a).max()) for a in arrays]  # each on its own scale
        pixel_grid(config, name, arrays, titles, figures, ncols=ncols, limit=limits,
                   annotate=True, suptitle=suptitle)  # fmt: skip
    return figures


def _summary(n: dict) -> list[str]:
    shown, rs, gd = matrix_text(WORKSHOP_FILTER), n["random_search"], n["gradient_descent"]
    lines = [f"Scores with the filter {shown} (> 0: /, < 0: \\, 0: no idea):"]
    for name, r in n["workshop_scores"].items():
        lines.append(f"  {name:<36} {r['score']:+3d}  -> {r['verdict']}")
    return [
        *lines,
        f"All 16 filters: best {matrix_text(n['best_filter'])}; {len(n['separating_filters'])} "
        f"give / > 0 > \\, {len(n['separating_swapped'])} more the reverse (filters.png).",
        f"Random search from {matrix_text(rs['path'][0]['filter'])} reached "
        f"{matrix_text(rs['found'])} in {rs['steps']} step(s).",
        f"Gradient descent learned {matrix_text(gd['filter'], '+.2f')}, "
        f"signs {matrix_text(gd['sign_pattern'])}, {gd['correct']} of 10 correct.",
    ]


def _prose(value, fmt: str = "+.0f") -> str:
    """A number or a small matrix for the story, with minus signs (not hyphens)."""
    text = f"{value:{fmt}}" if np.isscalar(value) else matrix_text(value, fmt)
    return text.replace("-", "−")


def _story_filter(n: dict) -> list[str]:
    """The story's first half: the filter at work, on every image of the lesson."""
    u, back, s, swapped = _prose, "\\", n["workshop_scores"], n["swapped_filter_scores"]
    right = sum(r["label"] * r["score"] > 0 for r in s.values())
    worked = [  # the slides' exercise, one line per image
        f"  {matrix_text(IMAGES[name][0])} * {matrix_text(WORKSHOP_FILTER)} -> "
        + " + ".join(f"({v:+d})" for v in r["products"].flatten())
        + f" = {r['score']}"
        for name, r in n["worked_exercise"].items()
    ]
    return [
        "A filter is a small pattern of numbers, and this lesson shows how it recognises a "
        "character. The workshop's simplified world (after Luis Serrano's \"A friendly "
        'introduction to Convolutional Neural Networks") has two characters, "/" and "\\", '
        "on 2x2 pixels: +1 is ink and −1 is paper. Lay a filter F on an image x, multiply "
        "pixel by pixel and add up: the dot product s = Σ F_ij·x_ij. The slides' filter "
        'F = [[−1, +1], [+1, −1]] is the "/" itself, so s > 0 says "/", s < 0 says "\\", and '
        's = 0 says "no idea".',
        f'The clean "/" scores {u(s["/"]["score"])} and the clean "\\" {u(s[back]["score"])}. '
        "Each product is +1 where image and filter agree, −1 where they differ: the score "
        "counts agreements minus disagreements, from −4 (the opposite) to +4 (a perfect "
        "match). Figure images.png shows every image with its score.",
        'A poorly drawn "/" (one stray ink pixel) scores '
        f'{u(s["poorly drawn / (stray top-left)"]["score"])} and an incomplete "\\" (one ink '
        f"pixel missing) {u(s[INCOMPLETE]['score'])}, as the slides say (> 0: poorly drawn "
        '"/", < 0: incomplete "\\"). One pixel now disagrees, which costs 2 points, but the '
        f"sign still gives the answer: the filter gets {right} of the 10 labelled "
        "images right (the clean, poorly drawn and incomplete slashes).",
        "\n".join(["The slides' exercise: overlay the filter, multiply, add up", *worked]),
        "Both of the slides' bars score 0: two pixels agree with the filter and two disagree, "
        'and they cancel. The filter has "no idea", which is the honest answer, since a bar '
        "is neither slash; all four bars score 0. The negated filter [[+1, −1], [−1, +1]] "
        f'works just as well with the signs swapped: it gives the clean "/" {u(swapped["/"])}, '
        f'the clean "\\" {u(swapped[back])}, and the bars 0 again.',
    ]


def _story_search(n: dict) -> list[str]:
    """The story's second half: the filter found three ways, and what comes next."""
    u, table, rs, gd = _prose, n["filter_table"], n["random_search"], n["gradient_descent"]
    next_best = sorted(r["correct"] for r in table)[-2]  # the best is the slides' filter: 10
    bars = max(abs(v) for k, v in gd["scores"].items() if "bar" in k)
    return [
        'How do we find such a filter? The slides\' "vanilla way" tries all 2·2·2·2 = 16 '
        "filters with ±1 entries (figure filters.png, laid out as the slides' table). "
        f'{len(n["separating_filters"])} of them give "/" a positive and "\\" a negative '
        "score: the slides' filter and the four that differ from it in one entry (a filter "
        'that agrees with "/" in k entries scores 2k − 4 on it). '
        f"{len(n['separating_swapped'])} more separate them with the signs swapped: their "
        "negations. Only the slides' filter gets all 10 labelled images right; no other gets "
        f"more than {next_best} (the four one entry away have no idea, score 0, about most "
        "one-pixel variants).",
        'Random search, the slides\' "better way", starts from a random filter, tries '
        'flipping each entry, and keeps the flip that helps most. It measures "helps" by the '
        'agreement Σ label·s over the 10 labelled images (label +1 for "/", −1 for "\\"). '
        f"From {u(rs['path'][0]['filter'])} it reached {u(rs['found'])} in {rs['steps']} "
        "step(s), without the table of all 16 (figure three_ways.png).",
        "Gradient descent, the tool of the workshop's first part, lets the four entries be any "
        f"real numbers. From small random numbers, {GD_STEPS} steps downhill on the logistic "
        f"loss log(1 + e^(−label·s)) gave {u(gd['filter'], '+.2f')}: "
        f"the signs of the slides' filter, {gd['correct']} of 10 right, and the bars still near "
        f'0 (|s| ≤ {bars:.2f}, against {gd["scores"]["/"]:.2f} for the clean "/"). Nobody told '
        'it the answer: it found the "/" pattern in the labelled images.',
        "The take-away: a filter is a template, and the dot product measures how much an image "
        "looks like it. Real networks learn their filters by gradient descent, as here. Next, "
        "chapter 13 (xo-world): in a 3x3 world a 2x2 filter no longer covers the whole image, "
        "so it slides over it, which is a convolution.",
    ]
