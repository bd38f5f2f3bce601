"""Lesson `why-deep`: accuracy grows with data and depth; cross-entropy learns faster.

The slides open with the claim that deep learning wins in accuracy when trained with huge
amounts of data, where older algorithms level off. This lesson measures it: four models trained
on the first 1,000, 5,000, 10,000 and 60,000 images of one seeded random order of the MNIST
training set (the smaller sets are parts of the larger ones), graded on test images none saw:
k-nearest neighbours (`knn.py`: memorise, then vote among the 3 nearest images), and softmax
regression, an MLP and a CNN from the model registry, trained by `run_training` with each
model's recipe. Every network gets the same budget at every size, 60,000 images in mini-batches
of 128: one pass at 60,000, sixty passes at 1,000.

Second, the slides' remark that for classification the cross-entropy cost works better than the
quadratic one (`costs.py`): the same softmax model, the same start, plain SGD, once per cost.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import torch
from matplotlib.figure import Figure

from dnnexplorer.data import Dataset
from dnnexplorer.errors import ConfigError
from dnnexplorer.lessons import costs
from dnnexplorer.lessons.base import LessonConfig, LessonResult, digits_dataset, new_figure, save
from dnnexplorer.lessons.knn import K, knn_accuracy
from dnnexplorer.train import TrainConfig, run_training

NAME = "why-deep"
DESCRIPTION = "Accuracy vs training-set size for kNN, softmax, MLP, CNN; cross-entropy vs squared"
USES_MNIST = True  # unless config.offline

NETWORKS = ("softmax", "mlp", "cnn")
PROBE = 0.01  # "confidently wrong": the model gives the right digit 1% probability


@dataclass(frozen=True)
class Plan:
    """How big the experiment is: the training-set sizes and the budget of each network."""

    sizes: tuple[int, ...]  # each divides `examples`, so every image is seen equally often
    examples: int  # images each network processes at every size
    batch_size: int  # images per update of the networks
    knn_test: int  # test images kNN classifies (it compares each with every training image)
    cost_updates: int  # updates of the cross-entropy vs squared-error comparison
    cost_every: int  # evaluate the test accuracy every this many updates

    def __post_init__(self) -> None:
        if any(self.examples % n for n in self.sizes):
            raise ConfigError(f"every size {self.sizes} must divide the budget {self.examples}")


MNIST_PLAN = Plan((1_000, 5_000, 10_000, 60_000), 60_000, 128, 1_000, 300, 10)
OFFLINE_PLAN = Plan((50, 200, 500, 2_000), 2_000, 32, 1_000, 60, 5)  # seven-segment digits: 6,000


def training_subset(dataset: Dataset, indices: torch.Tensor, examples: int) -> Dataset:
    """`dataset` with its training split cut to `indices`, repeated to `examples` images.

    One epoch of the result is the fixed budget: `examples` images in random order, each of
    the chosen ones equally often.
    """
    repeated = indices.repeat(examples // len(indices))  # (examples,)
    return dataclasses.replace(
        dataset,
        train_images=dataset.train_images[repeated],
        train_labels=dataset.train_labels[repeated],
    )


def network_accuracy(
    dataset: Dataset, order: torch.Tensor, model: str, plan: Plan, seed: int
) -> list[float]:
    """Test accuracy of `model` trained on the first N images of `order`, for each N of plan."""
    accuracies = []
    for n in plan.sizes:
        subset = training_subset(dataset, order[:n], plan.examples)
        # One epoch of the repeated subset with the recipe's optimizer and schedule, and the
        # slides' plain one-hot cross-entropy (no label smoothing).
        train = TrainConfig(
            model=model,
            epochs=1,
            batch_size=plan.batch_size,
            label_smoothing=0.0,
            seed=seed,
            device="cpu",
        )
        accuracies.append(run_training(train, dataset=subset).history[-1]["test_accuracy"])
    return accuracies


def run(config: LessonConfig) -> LessonResult:
    """Accuracy against training-set size for four models, then the two costs compared."""
    dataset = digits_dataset(config)
    plan = OFFLINE_PLAN if config.offline else MNIST_PLAN
    generator = torch.Generator().manual_seed(config.seed)
    order = torch.randperm(len(dataset.train_labels), generator=generator)  # nested subsets
    knn_test = torch.randperm(len(dataset.test_labels), generator=generator)[: plan.knn_test]
    accuracies = {"knn": knn_accuracy(dataset, order, knn_test, plan.sizes)}
    for model in NETWORKS:
        accuracies[model] = network_accuracy(dataset, order, model, plan, config.seed)
    updates = list(range(0, plan.cost_updates + 1, plan.cost_every))
    curves = costs.compare_costs(dataset, plan.cost_updates, plan.cost_every, config.seed)
    push = {c: float(costs.logit_gradient(c, torch.tensor([PROBE]))) for c in costs.COSTS}
    numbers = {
        "dataset": dataset.name,
        "sizes": list(plan.sizes),
        "k": K,
        "examples_per_size": plan.examples,
        "batch_size": plan.batch_size,
        "updates_per_size": -(-plan.examples // plan.batch_size),
        "test_images": len(dataset.test_labels),
        "knn_test_images": plan.knn_test,
        "accuracy": accuracies,
        "cost": {
            "learning_rate": costs.LEARNING_RATE,
            "batch_size": costs.BATCH,
            "wrong_bias": costs.WRONG_BIAS,
            "updates": updates,
            "curves": curves,
        },
        "probe": {"p": PROBE, **push},
    }
    figures: list = []
    title = f"{_name(numbers)}: more data, and a deeper model, give higher accuracy"
    save(accuracy_figure(plan.sizes, accuracies, title), config, "accuracy_vs_data", figures)
    fig = costs.cost_figure(updates, curves, costs.LEARNING_RATE, PROBE)
    save(fig, config, "cost_functions", figures)
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, _story(numbers))


LABELS = {"knn": "kNN", "softmax": "softmax regression", "mlp": "MLP", "cnn": "CNN"}


def accuracy_figure(sizes: list[int], accuracies: dict[str, list[float]], title: str) -> Figure:
    """Test accuracy against training-set size (log scale), one line per model."""
    fig = new_figure(7, 4.5)
    ax = fig.add_subplot()
    for model, values in accuracies.items():
        ax.semilogx(sizes, [100 * a for a in values], "-o", label=LABELS[model])
    ax.set_xticks(sizes, [f"{s:,}" for s in sizes])
    ax.minorticks_off()
    ax.set(xlabel="training images (log scale)", ylabel="test accuracy (%)", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def _summary(n: dict) -> list[str]:
    c = n["cost"]
    lines = [
        f"Test accuracy on {_name(n)} against training images ({n['updates_per_size']} "
        f"updates of {n['batch_size']} at every size; kNN graded on {n['knn_test_images']:,} "
        "test images):",
        *_table(n),
        f"Softmax regression, plain SGD (learning rate {c['learning_rate']:g}), test accuracy "
        f"after {c['updates'][-1]} updates:",
    ]
    for start, curves in c["curves"].items():
        lines.append(f"  {start}: " + ", ".join(f"{k} {_pct(v[-1])}" for k, v in curves.items()))
    p = n["probe"]
    push = f"cross-entropy {p['cross-entropy']:.3g}, squared error {p['squared error']:.3g}"
    return [*lines, f"Push on the right logit at p = {p['p']:g}: {push}."]


def _table(n: dict) -> list[str]:
    rows = {"training images": [f"{s:,}" for s in n["sizes"]]}
    rows |= {LABELS[m]: [_pct(a) for a in values] for m, values in n["accuracy"].items()}
    return [f"  {name:<20}" + "".join(f"{v:>9}" for v in values) for name, values in rows.items()]


def _name(n: dict) -> str:
    return "MNIST" if n["dataset"] == "mnist" else n["dataset"]


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def _story(n: dict) -> list[str]:
    sizes = n["sizes"]
    big, small = f"{sizes[-1]:,}", f"{sizes[0]:,}"
    knn = n["accuracy"]["knn"][-1]
    knn_se = (knn * (1 - knn) / n["knn_test_images"]) ** 0.5  # one standard error
    return [
        "Why deep learning? The slides' answer: deep networks win in accuracy when they are "
        "trained with huge amounts of data, where older algorithms level off. This chapter "
        f"measures that claim on {_name(n)} digits. It is a preview: the models are built "
        "step by step in later chapters (softmax regression in chapter 9, the MLP in chapter "
        "15, convolutional networks in chapters 14 and 15, the cost functions in chapter 9), "
        "and here only their results matter. Each model is graded by its test accuracy, "
        "correct answers / test images, on digits it never saw while learning.",
        f"Four models learn from the first {small} to {big} images of one random order of "
        "the training set. The oldest idea is k-nearest neighbours (kNN), one of the slides' "
        "supervised algorithms: memorise the examples, then label a new digit by a vote among "
        f"the k = {n['k']} stored images nearest to it, at distance d(a, b) = √Σ (a_i − b_i)² "
        "over the 784 pixels. The other three are neural networks, each deeper than the last: "
        "softmax regression (one layer), an MLP (two hidden layers) and a CNN (convolutions). "
        f"Each network gets the same budget at every size, {n['updates_per_size']} updates of "
        f"{n['batch_size']} images: at {big} it sees each image once, at {small} each one "
        f"{n['examples_per_size'] // sizes[0]} times. The networks are graded on all "
        f"{n['test_images']:,} test digits; kNN on {n['knn_test_images']:,} of them, because "
        "it compares each test digit with every stored one, which takes time; on that many "
        f"digits an accuracy is known to about ±{100 * knn_se:.1f} points.",
        "\n".join(_table(n)),
        *_story_data(n),
        *_story_costs(n),
        "Take-away: more data helps every model, and the deeper networks turn it into the "
        "most accuracy; to learn to classify, cross-entropy is the cost to use. That is why the "
        "rest of the course builds deep networks trained with cross-entropy. Next, chapter 2 "
        "starts at the beginning: what it means for a computer to learn from examples, on a "
        "question whose answer we know: can three lengths form a triangle?",
    ]


def _story_data(n: dict) -> list[str]:
    acc, sizes = n["accuracy"], n["sizes"]
    knn, cnn = acc["knn"], acc["cnn"]
    big, small = f"{sizes[-1]:,}", f"{sizes[0]:,}"
    grows = [LABELS[m] for m, a in acc.items() if all(x < y for x, y in itertools.pairwise(a))]
    cut = {m: 1 - (1 - a[-1]) / (1 - a[-2]) if a[-2] < 1 else 0.0 for m, a in acc.items()}
    flattest = min(cut, key=cut.get)
    knn_gains = "more" if cut["knn"] > cut["softmax"] else "less"
    best = {max(acc, key=lambda m: acc[m][i]) for i in range(len(sizes))}
    ranked = " > ".join(LABELS[m] for m in sorted(NETWORKS, key=lambda m: -acc[m][-1]))
    levels_off = (
        ": one weighted sum of the pixels per digit can only be so good, however many examples "
        "it sees. That is the levelling off the slides draw for the older algorithms. "
    )
    return [
        "More data. "
        + (
            "Every model gets better with every step up in data (accuracy_vs_data.png). "
            if len(grows) == len(acc)
            else f"Models that get better at every step up in data: {', '.join(grows)}. "
        )
        + f"From {small} to {big} images kNN goes from {_pct(knn[0])} to {_pct(knn[-1])}, the "
        f"CNN from {_pct(cnn[0])} to {_pct(cnn[-1])}. Near 100% a point is worth more than "
        "near 90%, so compare the mistakes: the last step, from "
        f"{sizes[-2]:,} to {big} images, cuts them by "
        + ", ".join(f"{100 * v:.0f}% ({LABELS[m]})" for m, v in cut.items())
        + f". The flattest curve is {LABELS[flattest]}'s"
        + (levels_off if flattest == "softmax" else ". ")
        + f"kNN, the oldest idea here, gains {knn_gains} than softmax regression, but it pays "
        f"at prediction time: each answer compares the new digit with all {big} stored ones, "
        "while the work of a trained network per answer does not grow with the data.",
        f"More depth. At {big} images the networks rank {ranked}; the most accurate model at "
        + (
            "every size is the CNN. "
            if best == {"cnn"}
            else f"some size is not the CNN ({', '.join(sorted(LABELS[m] for m in best))}). "
        )
        + f"With {big} images it gets {_pct(cnn[-1])} against kNN's {_pct(knn[-1])}: "
        f"{1000 * (1 - cnn[-1]):.0f} digits in 1,000 wrong against kNN's "
        f"{1000 * (1 - knn[-1]):.0f}. Trained on only {small} images, the CNN "
        f"({_pct(cnn[0])}) is {'already ahead of' if cnn[0] > knn[2] else 'behind'} kNN with "
        f"{sizes[2]:,} ({_pct(knn[2])}). A convolution looks at neighbouring pixels together "
        "and finds a stroke wherever it is (chapter 14), which is worth many examples.",
    ]


def _story_costs(n: dict) -> list[str]:
    c, probe = n["cost"], n["probe"]
    usual, wrong = c["curves"].values()
    early = c["updates"].index(c["updates"][-1] // 6)
    start = wrong["squared error"][0]
    moved = [
        u for u, a in zip(c["updates"], wrong["squared error"], strict=True) if a > start + 0.05
    ]
    still = c["updates"][c["updates"].index(moved[0]) - 1] if moved else c["updates"][-1]
    return [
        "The slides also say that for classification the cross-entropy cost, C = −Σ y_i ln p_i, "
        "works better than the quadratic cost, C = ½ Σ (y_i − p_i)², where p are the model's "
        "probabilities for the ten digits and y is 1 for the right digit and 0 elsewhere. The "
        "same softmax model, from the same start, was trained by plain gradient descent with "
        f"the same learning rate ({c['learning_rate']:g}) on the same mini-batches of "
        f"{c['batch_size']}, once with each cost. After {c['updates'][early]} updates "
        f"cross-entropy gets {_pct(usual['cross-entropy'][early])} of the test digits right, "
        f"squared error {_pct(usual['squared error'][early])}; after {c['updates'][-1]}, "
        f"{_pct(usual['cross-entropy'][-1])} against {_pct(usual['squared error'][-1])}. From "
        "a start that is confidently wrong (the same model with digit 0's bias raised by "
        f"{c['wrong_bias']:g}, so that it answers 0 for every image, more than 99.9% sure), "
        f"cross-entropy reaches {_pct(wrong['cross-entropy'][-1])}, while squared error stays "
        f"at {_pct(start)} for {still} updates"
        + (f" and ends at {_pct(wrong['squared error'][-1])}" if moved else ", all of them")
        + " (cost_functions.png, left).",
        "Why? Each update moves the right digit's score z in proportion to ∂C/∂z. For "
        "cross-entropy that is 1 − p, where p is the probability the model gives the right "
        "digit: the more wrong the model, the harder it pushes. For squared error (with the "
        f"wrong probability on one other digit) it is 2p(1 − p)²: at p = {probe['p']:g}, "
        f"confidently wrong, {probe['squared error']:.3g} against cross-entropy's "
        f"{probe['cross-entropy']:.3g}, {probe['cross-entropy'] / probe['squared error']:.0f} "
        "times weaker. Squared error barely notices the mistakes that most need fixing "
        "(cost_functions.png, right).",
    ]
