"""Lesson `xo-world`: a 3x3 world with "/", "\\", "X" and "O": convolution, pooling, dense layer.

The four characters are drawn exactly as in the workshop (+1 ink, −1 paper). The two 2x2
diagonal filters of the 2x2 world slide over each 3x3 image with stride 1, giving a 2x2 feature
map per filter: "where does a \\ (or a /) stroke sit?". A threshold keeps only perfect matches
(score 4). Max pooling then asks "is the stroke anywhere?" and forgets where: X and O both
contain both diagonals, so after pooling they look the same. A fully connected layer that sees
the feature maps position by position tells them apart: in X the "\\" strokes sit on the main
diagonal, in O on the other one.

Last, a small network of the same shape (2 conv filters, 8 positions, 4 outputs) learns its
filters and dense layer by gradient descent from random weights, and both networks are tested
on every image with one pixel flipped.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dnnexplorer.lessons.base import LessonConfig, LessonResult, pixel_grid, seeded_torch

NAME = "xo-world"
DESCRIPTION = 'The 3x3 world of "/", "\\", "X", "O": feature maps, pooling, a dense layer'

CLASSES = ("/", "\\", "X", "O")
IMAGES = torch.tensor(
    [
        [[-1, -1, 1], [-1, 1, -1], [1, -1, -1]],  # "/"
        [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]],  # "\"
        [[1, -1, 1], [-1, 1, -1], [1, -1, 1]],  # "X"
        [[-1, 1, -1], [1, -1, 1], [-1, 1, -1]],  # "O"
    ],
    dtype=torch.float32,
).unsqueeze(1)  # (4, 1, 3, 3): one channel, like a grayscale image
LABELS = torch.arange(4)
FILTER_NAMES = ("\\ filter", "/ filter")
FILTERS = torch.tensor([[[1, -1], [-1, 1]], [[-1, 1], [1, -1]]], dtype=torch.float32).unsqueeze(
    1
)  # (2, 1, 2, 2): two output channels, one input channel
THRESHOLD = 3.0  # scores are even numbers in [-4, 4]: above 3 means a perfect match
TRAIN_STEPS, TRAIN_LR = 300, 0.05


def feature_maps(images: torch.Tensor, filters: torch.Tensor = FILTERS) -> torch.Tensor:
    """Slide each filter over each image (stride 1): (B, 1, 3, 3) -> (B, 2, 2, 2)."""
    return F.conv2d(images, filters, stride=1)


def detect(maps: torch.Tensor) -> torch.Tensor:
    """The threshold: 1 where a filter matched perfectly, else 0. Same shape as `maps`."""
    return (maps > THRESHOLD).float()


def pool(detected: torch.Tensor) -> torch.Tensor:
    """Global max pooling: was each stroke found anywhere? (B, 2, 2, 2) -> (B, 2)."""
    return detected.amax(dim=(2, 3))


def design_dense_layer() -> tuple[torch.Tensor, torch.Tensor]:
    """Hand-design the fully connected layer from the clean characters' detections.

    Each character's output unit gets weight +1 on the 8 positions where its strokes should be
    found and −1 on the others, and bias 1 − (number of its strokes). Its output is then +1
    when exactly its strokes are found and at most −1 for any other clean character:
    "all of my strokes, and nothing else".
    """
    templates = detect(feature_maps(IMAGES)).flatten(1)  # (4 classes, 8 positions)
    weight = 2 * templates - 1  # (4, 8)
    bias = 1 - templates.sum(dim=1)  # (4,)
    return weight, bias


def hand_designed_logits(images: torch.Tensor) -> torch.Tensor:
    """Convolution, threshold, then the designed dense layer: (B, 1, 3, 3) -> (B, 4)."""
    weight, bias = design_dense_layer()
    features = detect(feature_maps(images)).flatten(1)  # (B, 8)
    return features @ weight.T + bias


class TinyConvNet(nn.Module):
    """The same shape, learned: 2 filters of 2x2, ReLU, a dense layer from 8 positions to 4."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, kernel_size=2)
        self.dense = nn.Linear(2 * 2 * 2, len(CLASSES))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        maps = F.relu(self.conv(images))  # (B, 1, 3, 3) -> (B, 2, 2, 2)
        return self.dense(maps.flatten(1))  # (B, 8) -> (B, 4) logits


def train_network(seed: int) -> tuple[TinyConvNet, list[float]]:
    """Learn filters and dense layer from random weights on the four clean images."""
    with seeded_torch(seed):
        net = TinyConvNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=TRAIN_LR)
    losses = []
    for _ in range(TRAIN_STEPS):
        loss = F.cross_entropy(net(IMAGES), LABELS)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return net.eval(), losses


def one_pixel_flips() -> tuple[torch.Tensor, torch.Tensor]:
    """Every clean image with one of its 9 pixels flipped: (36, 1, 3, 3) and labels (36,)."""
    flipped, labels = [], []
    for image, label in zip(IMAGES, LABELS, strict=True):
        for r in range(3):
            for c in range(3):
                variant = image.clone()
                variant[0, r, c] *= -1
                flipped.append(variant)
                labels.append(label)
    return torch.stack(flipped), torch.stack(labels)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    # Ties count as wrong: "no idea" is not an answer.
    top2 = logits.topk(2, dim=1).values
    decided = top2[:, 0] > top2[:, 1]
    return float(((logits.argmax(dim=1) == labels) & decided).float().mean())


def _plot_feature_maps(config: LessonConfig, maps: torch.Tensor, figures: list) -> None:
    images, titles, limits = [], [], []
    for i, name in enumerate(CLASSES):
        images += [IMAGES[i, 0], maps[i, 0], maps[i, 1]]
        titles += [f'"{name}"', f'"{name}" * {FILTER_NAMES[0]}', f'"{name}" * {FILTER_NAMES[1]}']
        limits += [1, 4, 4]
    suptitle = "Each character and its two 2x2 feature maps (4 = perfect match)"
    pixel_grid(
        config,
        "feature_maps",
        images,
        titles,
        figures,
        ncols=6,
        limit=limits,
        annotate=True,
        suptitle=suptitle,
    )


def _plot_learned(config: LessonConfig, net: TinyConvNet, figures: list) -> None:
    filters = net.conv.weight.detach()[:, 0]  # (2, 2, 2)
    limit = float(filters.abs().max())
    titles = [f"learned filter {i + 1}" for i in range(len(filters))]
    pixel_grid(
        config,
        "learned_filters",
        list(filters),
        titles,
        figures,
        limit=limit,
        annotate=True,
        suptitle="Filters learned from random weights",
    )


def run(config: LessonConfig) -> LessonResult:
    """Hand-designed network (conv, threshold, pool or dense) vs a learned one."""
    maps = feature_maps(IMAGES)  # (4, 2, 2, 2)
    pooled = pool(detect(maps))  # (4, 2)
    flipped, flipped_labels = one_pixel_flips()
    weight, bias = design_dense_layer()
    hand_logits = hand_designed_logits(IMAGES)
    net, losses = train_network(config.seed)
    with torch.no_grad():
        learned_logits, learned_flipped = net(IMAGES), net(flipped)
    figures: list = []
    _plot_feature_maps(config, maps, figures)
    _plot_learned(config, net, figures)
    numbers = {
        "classes": list(CLASSES),
        "feature_maps": _per_class(maps),
        "detected": _per_class(detect(maps)),
        "pooled": _per_class(pooled),
        "pooling_separates_x_and_o": not torch.equal(pooled[2], pooled[3]),
        "hand_designed": {
            "dense_weight": weight,
            "dense_bias": bias,
            "logits": _per_class(hand_logits),
            "predictions": [CLASSES[i] for i in hand_logits.argmax(dim=1)],
            "accuracy_clean": accuracy(hand_logits, LABELS),
            "accuracy_one_pixel_flipped": accuracy(hand_designed_logits(flipped), flipped_labels),
        },
        "learned": {
            "steps": TRAIN_STEPS,
            "final_loss": losses[-1],
            "filters": net.conv.weight.detach()[:, 0],
            "predictions": [CLASSES[i] for i in learned_logits.argmax(dim=1)],
            "accuracy_clean": accuracy(learned_logits, LABELS),
            "accuracy_one_pixel_flipped": accuracy(learned_flipped, flipped_labels),
        },
        "n_flipped_variants": len(flipped),
    }
    return LessonResult(NAME, config.seed, numbers, _explain(numbers), figures)


def _flat(feature_map: torch.Tensor) -> str:
    return " ".join(f"{v:+.0f}" for v in feature_map.flatten().tolist())


def _per_class(t: torch.Tensor) -> dict[str, torch.Tensor]:
    return {name: t[i] for i, name in enumerate(CLASSES)}


def _explain(n: dict) -> list[str]:
    lines = ["Feature maps (\\ filter | / filter), then max pooling of the perfect matches:"]
    for name in CLASSES:
        back, slash = (_flat(m) for m in n["feature_maps"][name])
        lines.append(f'  "{name}": [{back}] | [{slash}]  pooled {n["pooled"][name].tolist()}')
    hd, ln = n["hand_designed"], n["learned"]
    return [
        *lines,
        "X and O pool to the same pair: both contain both diagonals, so pooling alone cannot "
        "tell them apart.",
        "The dense layer sees where each stroke is (8 positions) and decides: "
        f"{', '.join(hd['predictions'])}; accuracy {hd['accuracy_clean']:.0%} on the clean "
        f"images, {hd['accuracy_one_pixel_flipped']:.0%} on the {n['n_flipped_variants']} "
        "one-pixel-flipped ones (a hard threshold is brittle).",
        f"Learned from random weights ({ln['steps']} Adam steps, loss {ln['final_loss']:.4f}): "
        f"{ln['accuracy_clean']:.0%} on the clean images, "
        f"{ln['accuracy_one_pixel_flipped']:.0%} on the flipped ones.",
    ]
