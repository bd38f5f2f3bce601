"""Exercises of chapter 15, `mnist-ladder`: the rungs' sizes and two departures from the slides.

The first counts the parameters of an MLP 784-300-100-10 by hand (one the LeNet-5 paper compares
with); the second those of LeNet-5's C3 as the project builds it (fully connected to S2, unlike
the paper's table); the third asks for the target that label smoothing gives the right class in
the `mlp` recipe; the last for the number a blank pixel becomes once the project standardises it
(the slides scale to 0..1).
References come from the model registry, the recipes, PyTorch's own cross-entropy and the data
registry's mean and standard deviation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dnnexplorer.course.checking import Exercise, number, whole_number
from dnnexplorer.data import get_dataset
from dnnexplorer.data.batches import normalize
from dnnexplorer.models import count_parameters, create_model, get_entry

CHAPTER = "mnist-ladder"
HIDDEN = [300, 100]  # LeCun et al. 1998 compare LeNet-5 with this MLP
CLASSES = 10
MNIST = get_dataset("mnist")


def _mlp_counts() -> tuple[int, int]:
    """(weights only, weights and biases) of the MLP 784-HIDDEN-10, from its nn.Linear layers."""
    layers = [m for m in create_model("mlp", hidden=HIDDEN).modules() if hasattr(m, "bias")]
    weights = sum(m.weight.numel() for m in layers)
    return weights, weights + sum(m.bias.numel() for m in layers)


def _smoothing() -> float:
    return get_entry("mlp").recipe.label_smoothing


def _smoothed_target() -> float:
    """The right class's target under the mlp recipe's label smoothing, read off PyTorch's loss.

    The gradient of cross-entropy with respect to the logits is softmax − target; at zero logits
    the softmax is 1/10 everywhere, so target = 1/10 − gradient.
    """
    logits = torch.zeros(1, CLASSES, requires_grad=True)
    F.cross_entropy(logits, torch.tensor([0]), label_smoothing=_smoothing()).backward()
    return float(1 / CLASSES - logits.grad[0, 0])


def _background_pixel() -> float:
    """What the network sees for a blank (0) MNIST pixel: (0/255 − mean) / std."""
    blank = torch.zeros(1, 1, 1, dtype=torch.uint8)  # one 1x1 image
    return float(normalize(blank, MNIST.mean, MNIST.std))


EXERCISES = (
    Exercise(
        CHAPTER,
        "mlp-parameters",
        "An MLP with two hidden layers, 784 pixels → 300 → 100 → 10 logits, each layer a "
        "weight matrix and a bias. How many parameters does it have in all?",
        solution=lambda: count_parameters(create_model("mlp", hidden=HIDDEN)),
        judge=whole_number(
            mistakes={
                _mlp_counts()[0]: "those are the weights; each layer also has one bias per output",
                _mlp_counts()[1] - 100 * CLASSES - CLASSES: "the output layer's 100 × 10 "
                "weights and 10 biases are parameters too",
                784 * 300 * 100 * CLASSES: "the layers' counts add up; they do not multiply",
            }
        ),
        wrong=_mlp_counts()[0],
        why="(784·300 + 300) + (300·100 + 100) + (100·10 + 10) = 235,500 + 30,100 + 1,010 = "
        f"{_mlp_counts()[1]:,}, more than four times LeNet-5's "
        f"{count_parameters(create_model('lenet5')):,}. Almost all of them sit "
        "in the first layer, which gives each of 300 units its own weight for every pixel.",
        hint="A layer from m inputs to n outputs has an m × n weight matrix and n biases.",
    ),
    Exercise(
        CHAPTER,
        "c3-parameters",
        "LeNet-5's C3 makes 16 feature maps of 10×10 from S2's 6 maps of 14×14, with 5×5 "
        "filters. How many parameters does C3 have in the project's model?",
        solution=lambda: count_parameters(create_model("lenet5").c3),
        judge=whole_number(
            mistakes={
                1_516: "that is the paper's C3, whose table connects each map to a subset of "
                "S2 (60 connections); the project connects every C3 map to all 6 S2 maps",
                416: "each C3 filter spans all 6 S2 maps: 6 × 5 × 5 weights, not 5 × 5",
                2_400: "those are the weights; each of the 16 filters also has a bias",
            }
        ),
        wrong=1_516,
        why="16 filters × (6 maps × 5×5 weights) + 16 biases = 2,416. The paper saved a third "
        "of them with a hand-made table of connections; today the full connection is cheap, "
        "and it is one of the departures lenet.py lists.",
        hint="One C3 filter has a 5×5 window in each of the 6 S2 maps, and one bias.",
    ),
    Exercise(
        CHAPTER,
        "smoothed-target",
        f"The mlp recipe trains with label smoothing ε = {_smoothing():g}: the target keeps "
        "1 − ε on the right class and spreads ε evenly over all 10 classes. What target "
        "probability does the right class get?",
        solution=_smoothed_target,
        judge=number(
            rel=1e-3,
            mistakes={
                0.9: "1 − ε is what stays; the ε spread over all 10 classes gives the right "
                "class ε/10 back",
                1.0: "that is the slides' one-hot target, without smoothing",
                0.01: "that is each wrong class's target, ε/10",
            },
        ),
        wrong=0.9,
        why=f"1 − {_smoothing():g} + {_smoothing():g}/10 = {_smoothed_target():.2f} (and "
        f"{_smoothing() / CLASSES:g} for each wrong class). The loss then never "
        "reaches 0: a model is not pushed to be 100% sure. So the mlp's training loss is not "
        "the slides' one-hot cross-entropy; its test loss is.",
        hint="Add the right class's share of the spread ε to what stays.",
    ),
    Exercise(
        CHAPTER,
        "background-pixel",
        "The project standardises pixels: x' = (x/255 − μ)/σ with MNIST's μ = 0.1307 and "
        "σ = 0.3081. What number does a network see for a blank (0) background pixel?",
        solution=_background_pixel,
        judge=number(
            rel=1e-3,
            mistakes={
                0.0: "that is the slides' 0..1 scale; the project subtracts the mean and "
                "divides by the standard deviation",
                -MNIST.mean: "you subtracted the mean; now divide by the standard deviation",
            },
        ),
        wrong=0.0,
        why="(0 − 0.1307)/0.3081 = −0.4242, and full ink (255) becomes +2.82: over the "
        "training set the pixels now have mean 0 and standard deviation 1, which suits the "
        "initial weights and lets one learning rate fit every model.",
        hint="x = 0, so x' = −μ/σ.",
    ),
)
