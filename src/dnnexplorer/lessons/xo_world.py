"""Lesson `xo-world`: a 3x3 world with "/", "\\", "X" and "O": convolution, pooling, dense layer.

The workshop's four 3x3 characters (+1 ink, −1 paper) and its "2x2 world experience": the "/"
filter of the slash world and its negation, the "\\" filter, slide over each image (stride 1):
a 2x2 feature map per filter, "where does a / or a \\ stroke sit?". A threshold keeps perfect
matches (4); max pooling asks "is the stroke anywhere?" and forgets where, so X and O (both
strokes each) look the same; a fully connected layer that sees the positions tells them apart.
Then a network of that shape learns its weights by plain gradient descent from random ones.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from dnnexplorer.lessons.base import LessonConfig, LessonResult, pixel_grid, seeded_torch
from dnnexplorer.lessons.slash_world import WORKSHOP_FILTER, matrix_text

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
FILTER_NAMES = ("/ filter", "\\ filter")
_SLASH = torch.tensor(WORKSHOP_FILTER, dtype=torch.float32)  # the 2x2 world's filter
FILTERS = torch.stack([_SLASH, -_SLASH]).unsqueeze(1)  # (2, 1, 2, 2): 2 filters, 1 channel
THRESHOLD = 3.0  # scores are even numbers in [-4, 4]: above 3 means a perfect match
TRAIN_STEPS, TRAIN_LR = 300, 0.5


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
    """The fully connected layer by hand, "all my strokes and nothing else": each character's
    unit weighs +1 where its strokes are, −1 elsewhere; bias 1 − its number of strokes."""
    templates = detect(feature_maps(IMAGES)).flatten(1)  # (4 classes, 8 positions)
    weight = 2 * templates - 1  # (4, 8)
    bias = 1 - templates.sum(dim=1)  # (4,)
    return weight, bias


def hand_designed_logits(images: torch.Tensor, filters: torch.Tensor = FILTERS) -> torch.Tensor:
    """Slide `filters`, threshold, then the designed dense layer: (B, 1, 3, 3) -> (B, 4)."""
    weight, bias = design_dense_layer()
    features = detect(feature_maps(images, filters)).flatten(1)  # (B, 8)
    return features @ weight.T + bias  # (B, 8) @ (8, 4) + (4,) -> (B, 4)


class TinyConvNet(nn.Module):
    """The same shape, learned: 2 filters of 2x2, ReLU, a dense layer from 8 positions to 4."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, kernel_size=2)  # 2·(2·2) weights + 2 biases
        self.dense = nn.Linear(2 * 2 * 2, len(CLASSES))  # 8·4 weights + 4 biases

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The feature maps after ReLU, flattened: (B, 1, 3, 3) -> (B, 8)."""
        return F.relu(self.conv(images)).flatten(1)  # (B, 2, 2, 2) -> (B, 8)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.dense(self.features(images))  # (B, 8) -> (B, 4) logits


def train_network(seed: int) -> tuple[TinyConvNet, list[float]]:
    """Learn filters and dense layer from random weights by plain gradient descent."""
    with seeded_torch(seed):
        net = TinyConvNet()
    optimizer = torch.optim.SGD(net.parameters(), lr=TRAIN_LR)
    losses = []
    for _ in range(TRAIN_STEPS):
        loss = F.cross_entropy(net(IMAGES), LABELS)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return net.eval(), losses


def look_alike(features: torch.Tensor) -> list[tuple[str, str]]:
    """The pairs of characters whose features are equal: no layer after can tell them apart."""
    pairs = itertools.combinations(range(len(CLASSES)), 2)
    return [(CLASSES[i], CLASSES[j]) for i, j in pairs if torch.equal(features[i], features[j])]


def one_pixel_flips() -> tuple[torch.Tensor, torch.Tensor]:
    """Every clean image with one of its 9 pixels flipped: (36, 1, 3, 3) and labels (36,)."""
    signs = 1 - 2 * torch.eye(9).view(9, 1, 3, 3)  # (9, 1, 3, 3): -1 at pixel k, +1 elsewhere
    flipped = (IMAGES.unsqueeze(1) * signs).flatten(0, 1)  # (4, 9, 1, 3, 3) -> (36, 1, 3, 3)
    return flipped, LABELS.repeat_interleave(9)


def best_possible_accuracy(images: torch.Tensor) -> float:
    """The most any classifier can get right when equal pictures carry different labels: one
    per distinct picture (within a class, the one-pixel flips are all different)."""
    return len(torch.unique(images.flatten(1), dim=0)) / len(images)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of rows whose largest logit is the label's; a tie ("no idea") is wrong."""
    top2 = logits.topk(2, dim=1).values
    decided = top2[:, 0] > top2[:, 1]
    return float(((logits.argmax(dim=1) == labels) & decided).float().mean())


def _plot_pipeline(config: LessonConfig, maps: torch.Tensor, figures: list) -> None:
    detected, pooled = detect(maps), pool(detect(maps))
    images, titles, limits = [], [], []
    for i, name in enumerate(CLASSES):
        images += [IMAGES[i, 0], maps[i, 0], maps[i, 1], detected[i, 0], detected[i, 1]]
        found = ["anywhere: " + ("yes" if v else "no") for v in pooled[i].tolist()]
        titles += [f'"{name}"', *(f'"{name}" * {f}' for f in FILTER_NAMES)]
        titles += [f"{f} > {THRESHOLD:g}?\n{y}" for f, y in zip(FILTER_NAMES, found, strict=True)]
        limits += [1, 4, 4, 1, 1]
    suptitle = "Each character, its two feature maps (4 = perfect match), the threshold, pooling"
    pixel_grid(config, "feature_maps", images, titles, figures, ncols=5, limit=limits,
               annotate=True, suptitle=suptitle)  # fmt: skip


def _plot_learned(config: LessonConfig, net: TinyConvNet, figures: list) -> None:
    filters = net.conv.weight.detach()[:, 0]  # (2, 2, 2)
    titles = [f"learned filter {i + 1}\nbias {b:+.2f}" for i, b in enumerate(net.conv.bias)]
    suptitle = "Filters learned by gradient descent from random weights"
    pixel_grid(config, "learned_filters", list(filters), titles, figures,
               limit=float(filters.abs().max()), annotate=True, suptitle=suptitle)  # fmt: skip


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
        learned_look_alike = look_alike(net.features(IMAGES))
    figures: list = []
    _plot_pipeline(config, maps, figures)
    _plot_learned(config, net, figures)
    numbers = {
        "classes": list(CLASSES),
        "filters": dict(zip(FILTER_NAMES, FILTERS[:, 0], strict=True)),
        "feature_maps": dict(zip(CLASSES, maps, strict=True)),
        "maps_are_negations": torch.equal(maps[:, 0], -maps[:, 1]),
        "detected": dict(zip(CLASSES, detect(maps), strict=True)),
        "pooled": dict(zip(CLASSES, pooled, strict=True)),
        "pooled_look_alike": look_alike(pooled),
        "hand_designed": {
            "dense_weight": weight,
            "dense_bias": bias,
            "logits": dict(zip(CLASSES, hand_logits, strict=True)),
            "predictions": [CLASSES[i] for i in hand_logits.argmax(dim=1)],
            "accuracy_clean": accuracy(hand_logits, LABELS),
            "accuracy_one_pixel_flipped": accuracy(hand_designed_logits(flipped), flipped_labels),
        },
        "learned": {
            "steps": TRAIN_STEPS,
            "learning_rate": TRAIN_LR,
            "parameters": sum(p.numel() for p in net.parameters()),
            "final_loss": losses[-1],
            "filters": net.conv.weight.detach()[:, 0],
            "predictions": [CLASSES[i] for i in learned_logits.argmax(dim=1)],
            "look_alike": learned_look_alike,
            "accuracy_clean": accuracy(learned_logits, LABELS),
            "accuracy_one_pixel_flipped": accuracy(learned_flipped, flipped_labels),
        },
        "n_flipped_variants": len(flipped),
        "best_possible_flipped": best_possible_accuracy(flipped),
    }
    story = _story_maps(numbers) + _story_dense(numbers)
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, story)


def _summary(n: dict) -> list[str]:
    lines = ["Feature maps (/ filter | \\ filter), then max pooling of the perfect matches:"]
    for name in CLASSES:
        slash, back = (matrix_text(m.tolist()) for m in n["feature_maps"][name])
        lines.append(f'  "{name}": {slash} | {back}  pooled {n["pooled"][name].tolist()}')
    hd, ln = n["hand_designed"], n["learned"]
    same = "; ".join(" and ".join(pair) for pair in n["pooled_look_alike"])
    return [
        *lines,
        f"Alike after pooling: {same}. Dense layer by hand reads {' '.join(hd['predictions'])}: "
        f"{hd['accuracy_clean']:.0%} clean, {hd['accuracy_one_pixel_flipped']:.0%} of the "
        f"{n['n_flipped_variants']} one-pixel flips (at best {n['best_possible_flipped']:.0%}).",
        f"Learned by {ln['steps']} gradient descent steps (loss {ln['final_loss']:.4f}): "
        f"{ln['accuracy_clean']:.0%} clean, {ln['accuracy_one_pixel_flipped']:.0%} flipped.",
    ]


def _story_maps(n: dict) -> list[str]:
    """The story's first half: the convolution, its feature maps, the threshold and pooling."""
    maps, pooled = n["feature_maps"], n["pooled"]
    table = ["      / filter map           \\ filter map           found anywhere (/, \\)"]
    for name in CLASSES:
        found = ", ".join("yes" if v else "no" for v in pooled[name].tolist())
        slash, back = (matrix_text(m.tolist()) for m in maps[name])
        table.append(f"  {chr(34) + name + chr(34):<4}{slash:<23}{back:<23}{found}")
    same = " and ".join(f"{a} and {b}" for a, b in n["pooled_look_alike"])
    return [
        'The 3x3 world holds four characters, "/", "\\", "X" and "O", drawn as in the slides '
        "(+1 ink, −1 paper). A 2x2 filter no longer covers the whole image, so, using the 2x2 "
        "world's experience, we slide it over the image one pixel at a time (stride 1) and take "
        "the dot product with the patch under it at each position: "
        "m[r, c] = Σ_ij F[i, j]·x[r+i, c+j]. That is a convolution, and its output, one number "
        "per position, is a feature map, here (3 − 2 + 1) x (3 − 2 + 1) = 2x2. We slide two "
        'filters: the "/" filter [[−1, +1], [+1, −1]] of chapter 12 and its negation, the "\\" '
        "filter. Then come the two other parts of a convolutional network: pooling and a fully "
        "connected layer.",
        "\n".join(table),
        'Read each map as "where does this stroke sit?": 4 is a perfect match. X holds a "/" '
        'stroke at the top-right and bottom-left positions and a "\\" stroke at the other two; '
        'O holds them the other way round. Each "\\" map is the "/" map times −1, as the '
        "filters are, so before the threshold the second filter adds nothing. The threshold (> "
        f"{THRESHOLD:g}: keep only perfect matches) makes them two different detectors "
        "(feature_maps.png).",
        'Max pooling keeps the largest value of each map: "was this stroke found anywhere?". It '
        "throws the position away, as the slides say of pooling, and here that costs us: "
        f"{same} both pool to (yes, yes), so no layer after pooling can tell them apart. (Real "
        "networks pool over small windows, keeping a coarse position; here the window is the "
        "whole 2x2 map.)",
    ]


def _story_dense(n: dict) -> list[str]:
    """The story's second half: the fully connected layer, by hand and learned."""
    hd, ln = n["hand_designed"], n["learned"]
    twice = round(n["n_flipped_variants"] * (1 - n["best_possible_flipped"]))
    stuck = " and ".join(f'"{a}" and "{b}"' for a, b in ln["look_alike"])
    learned = (
        f"{ln['steps']} steps of plain gradient descent (learning rate {ln['learning_rate']}) on "
        f"the cross-entropy of the 4 clean images brought the loss to {ln['final_loss']:.4f}: "
        f"{ln['accuracy_clean']:.0%} of the clean images and "
        f"{ln['accuracy_one_pixel_flipped']:.0%} of the one-pixel-flipped ones are right"
    )
    if not stuck and ln["accuracy_one_pixel_flipped"] > hd["accuracy_one_pixel_flipped"]:
        learned += ", more than by hand: the ReLU keeps a 2 as a weak hint where the threshold "
        learned += "dropped it"
    if stuck:
        learned += (
            f". With this seed it got stuck: after the ReLU, {stuck} give exactly the same 8 "
            "numbers, so the dense layer cannot tell them apart, and where the ReLU gives 0 no "
            "gradient flows back to change the filters. Another seed (--seed) usually escapes"
        )
    learned += (
        ". Compare its filters (learned_filters.png) with the slides' diagonals: they need not "
        "match; any filters that give the four characters different feature maps will do."
    )
    return [
        'The fully connected layer (the slides\' "what about the fully connected layer?") looks '
        "at all 8 detections d (2 maps x 4 positions) and scores each character: z = W·d + b, "
        "W of shape 4x8. Designed by hand (+1 where the character's strokes should be, −1 "
        "elsewhere, bias 1 − its number of strokes) it reads the clean images as "
        f"{', '.join(hd['predictions'])}: {hd['accuracy_clean']:.0%}. On the "
        f"{n['n_flipped_variants']} images with one pixel flipped it gets only "
        f"{hd['accuracy_one_pixel_flipped']:.0%}: a flipped pixel can turn a perfect 4 into a 2 "
        '(the stroke is lost) or a 2 into a 4 (a stroke appears), and the rule "all my strokes '
        'and nothing else" fails. Hand-made rules are brittle. (No rule gets all of them: '
        f"{twice} pictures appear twice, under two labels: an X missing a corner is a "
        f'"/" or a "\\" with a stray ink pixel; the best possible is '
        f"{n['best_possible_flipped']:.0%}.)",
        'The slides\' last question, "how do we obtain filters?", has the answer of chapter 12: '
        "gradient descent. TinyConvNet has the same shape (2 filters of 2x2, a ReLU instead of "
        f"the hard threshold, a dense layer from 8 to 4): {ln['parameters']} numbers, all "
        f"random at first. {learned}",
        "The take-away: this is a convolutional network in miniature. Filters slide over the "
        "image and make feature maps, a threshold or ReLU keeps the strong matches, pooling asks "
        "whether a feature is anywhere, and a fully connected layer turns what was found into a "
        "decision; gradient descent finds all the weights. Next, chapter 14 (convolution): the "
        "same on real 28x28 digits, with stride, padding and shared weights.",
    ]
