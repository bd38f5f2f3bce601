"""Exercises of chapter 13, `xo-world`: a feature map by hand, counting weights, a brittle rule.

The images are 3x3 (+1 ink, −1 paper); the "/" filter is the 2x2 world's [[−1, +1], [+1, −1]],
slid with stride 1.
"""

from __future__ import annotations

import torch

from dnnexplorer.course.checking import Exercise, array, choice, whole_number
from dnnexplorer.lessons import xo_world
from dnnexplorer.lessons.base import seeded_torch

CHAPTER = "xo-world"

# An X missing its top-left corner (a new image: the lesson does not draw it).
CORNERLESS_X = [[-1, -1, 1], [-1, 1, -1], [1, -1, 1]]
# An X whose centre pixel was flipped to paper.
HOLLOW_X = [[1, -1, 1], [-1, -1, -1], [1, -1, 1]]
ANSWERS = (*xo_world.CLASSES, "no idea")


def _image(rows: list[list[int]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32).view(1, 1, 3, 3)  # (B, C, H, W)


def _slash_map() -> torch.Tensor:
    return xo_world.feature_maps(_image(CORNERLESS_X))[0, 0]  # channel 0: the "/" filter


def _parameters() -> int:
    with seeded_torch(0):  # building the layers draws random weights: leave the caller's RNG be
        net = xo_world.TinyConvNet()
    return sum(p.numel() for p in net.parameters())


def _hollow_x_answer() -> str:
    logits = xo_world.hand_designed_logits(_image(HOLLOW_X))  # (1, 4)
    top2 = logits[0].topk(2)
    if top2.values[0] == top2.values[1]:
        return "no idea"
    return xo_world.CLASSES[int(top2.indices[0])]


EXERCISES = (
    Exercise(
        CHAPTER,
        "feature-map",
        'Slide the "/" filter [[-1, +1], [+1, -1]] over the 3x3 image '
        "[[-1, -1, +1], [-1, +1, -1], [+1, -1, +1]] (an X missing its top-left corner) with "
        "stride 1. Write the 2x2 feature map as a list of lists.",
        solution=_slash_map,
        judge=array(),
        wrong=[[2, -4], [-4, 4]],
        why="At each of the 4 positions, the dot product of the filter with the 2x2 patch under "
        'it: the top-right and bottom-left patches are perfect "/" strokes (+4), the '
        'bottom-right patch is a perfect "\\" (-4), and the top-left patch, missing its corner, '
        'is an incomplete "\\" (-2).',
        hint="The top-left patch is rows 0-1 and columns 0-1; move one column right for the "
        "top-right one, one row down for the bottom ones. Score each patch as in chapter 12.",
    ),
    Exercise(
        CHAPTER,
        "parameters",
        "TinyConvNet has a convolution with 2 filters of 2x2 (one input channel) and a fully "
        "connected layer from the 8 feature-map values to 4 outputs. How many numbers (weights "
        "and biases) does gradient descent learn?",
        solution=_parameters,
        judge=whole_number(
            mistakes={
                40: "those are the weights; each filter and each output unit has a bias too",
                36: "that is the fully connected layer alone; the two filters are learned too",
                10: "that is the convolution alone; the fully connected layer is learned too",
            }
        ),
        wrong=40,
        why="The convolution has 2 filters of 2x2 = 8 weights and 2 biases (10); the fully "
        "connected layer has 8 x 4 = 32 weights and 4 biases (36): 46 in all. The same 4 "
        "weights of a filter serve every position: that is what keeps a convolution small.",
        hint="Count layer by layer, weights and biases apart: a filter has one bias, and so "
        "has each output unit.",
    ),
    Exercise(
        CHAPTER,
        "hollow-x",
        "Flip the centre pixel of X to paper: [[+1, -1, +1], [-1, -1, -1], [+1, -1, +1]]. What "
        "does the hand-designed network (threshold > 3, then the designed dense layer) answer? "
        'One of "/", "\\", "X", "O" or "no idea" (a tie).',
        solution=_hollow_x_answer,
        judge=choice(
            ANSWERS,
            mistakes={
                "X": "a person still sees an X, but the network sees only its feature maps: work "
                "them out and apply the threshold first",
                "O": "O needs its four strokes at the positions where O has them; work out the "
                "feature maps first",
            },
        ),
        wrong="X",
        why="Every 2x2 patch now holds the centre pixel, so no patch is a perfect stroke: all "
        "8 scores are +2 or -2, and the threshold finds nothing. The dense layer then sees "
        'only zeros and outputs its biases, 1 - (number of strokes): -1 for "/" and for '
        '"\\", a tie. A hard threshold makes the network brittle.',
        hint="Compute the two 2x2 feature maps first (each patch contains the centre), then "
        "apply the threshold; what do the outputs become when every detection is 0?",
    ),
)
